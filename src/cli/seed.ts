// `vireo seed`: a populated instance to try Vireo on. It runs the platform in this process and makes the
// catalog through the public API, as users would: accounts, channels, tags, and videos drawn by ffmpeg
// that go through the real upload and processing pipeline. Run twice, it finds what it made and makes
// nothing again.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { App } from '../app.ts';
import { tagSlug } from '../modules/videos/index.ts';
import { DomainError } from '../platform/errors/domain-error.ts';
import { mediaTools } from '../platform/media/tools.ts';
import { SEED_ADMIN, SEED_CREATORS, SEED_PASSWORDS, SEED_TAGS, type SeedVideo } from './seed-data.ts';

const run = promisify(execFile);

export interface SeedSummary {
  users: number;
  tags: number;
  videos: { made: number; found: number };
}

// biome-ignore lint/suspicious/noExplicitAny: the API's answers, read field by field as the seed needs
type Json = any;

class Client {
  constructor(
    private readonly base: string,
    private token?: string,
  ) {}

  async call<T = Json>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${this.base}${url}`, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Like `call`, but a status other than `expect` is an error. */
  async must<T = Json>(method: string, url: string, body?: unknown, expect = [200, 201, 204]): Promise<T> {
    const res = await this.call<T>(method, url, body);
    if (!expect.includes(res.status)) {
      throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }

  async signIn(username: string, password: string): Promise<void> {
    const res = await this.call('POST', '/api/v1/auth/login', { username, password });
    if (res.status !== 200) {
      throw new Error(
        `cannot sign in as ${username} (${res.status} ${res.body?.code}); was the account made with another password?`,
      );
    }
    this.token = res.body.access_token;
  }
}

/** Makes the account unless it exists (found by its username). */
async function ensureAccount(
  app: App,
  input: { username: string; email: string; password: string; display_name: string; role: 'user' | 'admin' },
): Promise<boolean> {
  try {
    await app.accounts.createUser(input);
    return true;
  } catch (err) {
    if (err instanceof DomainError && (err.code === 'USERNAME_TAKEN' || err.code === 'EMAIL_TAKEN'))
      return false;
    throw err;
  }
}

async function drawClip(dir: string, name: string, video: SeedVideo): Promise<string> {
  const file = path.join(dir, `${name}.mp4`);
  await run(mediaTools().ffmpeg, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `${video.picture}=size=320x240:rate=25`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${video.tone}:sample_rate=44100`,
    '-t',
    '4',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-preset',
    'veryfast',
    '-c:a',
    'aac',
    '-shortest',
    file,
  ]);
  return file;
}

const languageOf = (title: string) =>
  /[\u3040-\u30ff]/.test(title) ? 'ja' : /[\u4e00-\u9fff]/.test(title) ? 'zh' : 'en';

export async function seedCatalog(
  app: App,
  /** `progress`: told each step; `videosPerCreator`: fewer videos (tests). */
  opts: { progress?: (line: string) => void; videosPerCreator?: number } = {},
): Promise<SeedSummary> {
  const progress = opts.progress ?? (() => {});
  const base = app.url!;
  const summary: SeedSummary = { users: 0, tags: 0, videos: { made: 0, found: 0 } };

  const adminPassword = process.env.SEED_ADMIN_PASSWORD ?? SEED_PASSWORDS.admin;
  if (
    await ensureAccount(app, {
      ...SEED_ADMIN,
      password: adminPassword,
      display_name: 'Administrator',
      role: 'admin',
    })
  ) {
    summary.users++;
  }
  const admin = new Client(base);
  await admin.signIn(SEED_ADMIN.username, adminPassword);

  const existingTags = new Set(
    ((await admin.must('GET', '/api/v1/tags')) as { items: { slug: string }[] }).items.map((t) => t.slug),
  );
  for (const name of SEED_TAGS) {
    if (existingTags.has(tagSlug(name))) continue;
    await admin.must('POST', '/api/v1/admin/tags', { name });
    summary.tags++;
  }

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-seed-'));
  const pending: { client: Client; id: string }[] = [];
  try {
    for (const creator of SEED_CREATORS) {
      const made = await ensureAccount(app, {
        username: creator.username,
        email: `${creator.username.replace('_', '.')}@vireo.example`,
        password: SEED_PASSWORDS.creator,
        display_name: creator.displayName,
        role: 'user',
      });
      if (made) summary.users++;
      const client = new Client(base);
      await client.signIn(creator.username, SEED_PASSWORDS.creator);
      const me = await client.must('GET', '/api/v1/users/me');
      if (me.channel_id) {
        await client.must('PUT', `/api/v1/channels/${me.channel_id}`, {
          name: creator.channel.name,
          description: creator.channel.description,
          monthly_fee: creator.channel.monthlyFee,
          currency: 'USD',
        });
      }
      const mine = await client.must('GET', '/api/v1/users/me/videos?limit=100');
      const titles = new Set((mine.items as { title: string }[]).map((i) => i.title));
      for (const [n, video] of creator.videos.slice(0, opts.videosPerCreator).entries()) {
        if (titles.has(video.title)) {
          summary.videos.found++;
          continue;
        }
        const clip = await drawClip(dir, `${creator.username}-${n}`, video);
        const form = new FormData();
        form.append('title', video.title);
        form.append(
          'file',
          new Blob([new Uint8Array(await fs.readFile(clip))], { type: 'video/mp4' }),
          'clip.mp4',
        );
        const { id } = await client.must('POST', '/api/v1/videos/upload', form);
        await client.must('PUT', `/api/v1/videos/${id}`, {
          title: video.title,
          description: video.description,
          category: video.category,
          tags: video.tags,
          language: languageOf(video.title),
        });
        pending.push({ client, id });
        summary.videos.made++;
        progress(`uploaded "${video.title}" (${creator.username})`);
      }
    }
    // The pipeline makes them watchable; they publish themselves as they become playable.
    if (pending.length) progress(`processing ${pending.length} videos…`);
    const deadline = Date.now() + 10 * 60_000;
    for (const { client, id } of pending) {
      for (;;) {
        const v = await client.must('GET', `/api/v1/videos/${id}`);
        if (v.status === 'ready') break;
        if (v.status === 'failed') throw new Error(`seed video ${id} failed: ${v.processing?.failure_code}`);
        if (Date.now() > deadline) throw new Error(`seed video ${id} is not processed after 10 minutes`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await seedCommunity(base, progress);
    await app.services.trending.recompute();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return summary;
}

const SEED_COMMENTS = [
  'Lovely work!',
  'This made my day.',
  'How did you film this?',
  'More like this, please.',
];

/**
 * Each creator follows and subscribes to the next two, likes their videos and comments on one of them
 * (once: a comment of theirs already there is left as it is); then trending is ranked once, so the
 * lists have something to show before the hourly job runs. All of it is idempotent.
 */
async function seedCommunity(base: string, progress: (line: string) => void): Promise<void> {
  const people: { client: Client; id: string; channelId: string; videos: string[] }[] = [];
  for (const creator of SEED_CREATORS) {
    const client = new Client(base);
    await client.signIn(creator.username, SEED_PASSWORDS.creator);
    const me = await client.must('GET', '/api/v1/users/me');
    const list = await client.must('GET', `/api/v1/channels/${me.channel_id}/videos?limit=50`);
    people.push({ client, id: me.id, channelId: me.channel_id, videos: list.items.map((v: Json) => v.id) });
  }
  for (const [i, person] of people.entries()) {
    for (const step of [1, 2]) {
      const other = people[(i + step) % people.length]!;
      if (other === person) continue;
      await person.client.must('POST', `/api/v1/users/${other.id}/follow`);
      await person.client.must('POST', `/api/v1/channels/${other.channelId}/subscribe`);
      for (const video of other.videos) await person.client.must('POST', `/api/v1/like/video/${video}`);
      const first = other.videos[0];
      if (!first) continue;
      const comments = await person.client.must('GET', `/api/v1/videos/${first}/comments?limit=100`);
      if (!comments.items.some((c: Json) => c.author?.id === person.id)) {
        await person.client.must('POST', `/api/v1/videos/${first}/comments`, {
          body: SEED_COMMENTS[(i + step) % SEED_COMMENTS.length],
        });
      }
    }
  }
  progress('subscriptions, follows, likes and comments in place');
}
