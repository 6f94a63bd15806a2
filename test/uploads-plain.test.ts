// The one-request upload (multipart/form-data) through the real server: the file is streamed to disk,
// registered and completed like a tus upload, within the same size and quota limits.
// The app runs the `api` role: no worker picks the processing job, so its row stays to be counted.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type ApiResponse, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem } from './helpers/problems.ts';

const MiB = 1024 * 1024;
const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

async function send(t: TestApp, form: FormData | string, token?: string): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (typeof form === 'string') headers['content-type'] = 'application/json';
  const res = await fetch(`${t.url}/api/v1/videos/upload`, { method: 'POST', headers, body: form });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

function form(fields: Array<[string, string | { data: Buffer; filename: string }]>): FormData {
  const f = new FormData();
  for (const [name, value] of fields) {
    if (typeof value === 'string') f.append(name, value);
    else f.append(name, new Blob([new Uint8Array(value.data)], { type: 'video/mp4' }), value.filename);
  }
  return f;
}

async function processJobs(t: TestApp, videoId: string): Promise<number> {
  // Processing is scheduled by the transcoding module when it hears of the upload.
  await eventsDelivered(t);
  // The jobs view hides payloads: graphile-worker's own tables have them.
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from graphile_worker._private_jobs j
    join graphile_worker._private_tasks k on k.id = j.task_id
    where k.identifier = 'transcoding.process_video' and j.payload->>'videoId' = ${videoId}`.execute(
    t.app.database.db,
  );
  return rows[0]!.n;
}

async function videoCount(t: TestApp, ownerId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from videos where owner_id = ${ownerId}`.execute(t.app.database.db);
  return rows[0]!.n;
}

describe('plain uploads', () => {
  let t: TestApp;
  let root: string;
  const uploadDir = () => path.join(root, 'uploads');
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-plain-'));
    t = await startTestApp(
      {
        UPLOAD_DIR: path.join(root, 'uploads'),
        STORAGE_DIR: path.join(root, 'storage'),
        UPLOAD_MAX_BYTES: String(4 * MiB),
        UPLOAD_QUOTA_BYTES: String(6 * MiB),
      },
      { role: 'api' },
    );
  });
  after(async () => {
    await t.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('stores a file larger than any request body limit and answers 201 with the uploaded video', async () => {
    const user = await registerUser(t);
    // 3 MiB: thrice Fastify's body limit, so the file cannot have been read into memory by it.
    const data = randomBytes(3 * MiB);
    const res = await send(
      t,
      form([
        ['title', 'Sunset'],
        ['file', { data, filename: 'sunset.mp4' }],
      ]),
      user.access_token,
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['id', 'status']);
    assert.equal(res.body.status, 'uploaded');
    assert.equal(res.headers.get('location'), `/api/v1/videos/${res.body.id}`);

    const video = await t.app.videos.get(res.body.id);
    assert.equal(video?.owner_id, user.id);
    assert.equal(video?.title, 'Sunset');
    assert.equal(video?.source_filename, 'sunset.mp4');
    assert.equal(video?.source_size, data.length);
    assert.equal(video?.source_key, `sources/${res.body.id}/original`);
    const stored = await t.app.store.get(video!.source_key!);
    const chunks: Buffer[] = [];
    for await (const chunk of stored!.body) chunks.push(chunk as Buffer);
    assert.equal(sha(Buffer.concat(chunks)), sha(data));
    assert.equal(await processJobs(t, res.body.id), 1);
    assert.deepEqual(await fs.readdir(path.join(uploadDir(), 'forms')), [], 'no temporary file stays');
  });

  it('takes a title sent after the file, and defaults it to the filename without extension', async () => {
    const user = await registerUser(t);
    const data = randomBytes(1000);
    const late = await send(
      t,
      form([
        ['file', { data, filename: 'a.mov' }],
        ['title', 'Late title'],
      ]),
      user.access_token,
    );
    assert.equal(late.status, 201);
    assert.equal((await t.app.videos.get(late.body.id))?.title, 'Late title');
    const plain = await send(t, form([['file', { data, filename: 'Beach day.webm' }]]), user.access_token);
    assert.equal((await t.app.videos.get(plain.body.id))?.title, 'Beach day');
  });

  it('refuses a file over the size limit, and one over the quota, leaving nothing behind', async () => {
    const user = await registerUser(t);
    const big = await send(
      t,
      form([['file', { data: randomBytes(4 * MiB + 1), filename: 'big.mp4' }]]),
      user.access_token,
    );
    assertProblem(big, 413, 'UPLOAD_TOO_LARGE');
    // Declared far over the limit: refused from Content-Length, before the file is read.
    const huge = await send(
      t,
      form([['file', { data: randomBytes(5 * MiB), filename: 'huge.mp4' }]]),
      user.access_token,
    );
    assertProblem(huge, 413, 'UPLOAD_TOO_LARGE');
    assert.equal(await videoCount(t, user.id), 0);

    const fits = await send(
      t,
      form([['file', { data: randomBytes(4 * MiB), filename: 'a.mp4' }]]),
      user.access_token,
    );
    assert.equal(fits.status, 201);
    const over = await send(
      t,
      form([['file', { data: randomBytes(3 * MiB), filename: 'b.mp4' }]]),
      user.access_token,
    );
    assertProblem(over, 413, 'QUOTA_EXCEEDED');
    assert.equal(await videoCount(t, user.id), 1);
    assert.deepEqual(await fs.readdir(path.join(uploadDir(), 'forms')), []);
  });

  it('needs a token, a multipart body and a file', async () => {
    const user = await registerUser(t);
    const data = randomBytes(100);
    assertProblem(await send(t, form([['file', { data, filename: 'a.mp4' }]])), 401, 'TOKEN_MISSING');
    assertProblem(await send(t, '{"file":"x"}', user.access_token), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const none = await send(t, form([['title', 'no file']]), user.access_token);
    assertProblem(none, 400, 'VALIDATION_FAILED');
    assert.deepEqual(
      none.body.errors.map((e: { field: string }) => e.field),
      ['file'],
    );
    assert.equal(await videoCount(t, user.id), 0);
  });
});
