// `vireo worker` processes for tests, each in a process group of its own so that a SIGKILL of the group
// takes its ffmpeg with it, next to an API started in the test process; and a way to hand them a video
// as an upload's completion does.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { processVideoJobType } from '../../src/modules/transcoding/index.ts';
import { enqueue } from '../../src/platform/jobs/enqueue.ts';
import type { TestApp } from './app.ts';

const root = path.resolve(import.meta.dirname, '../..');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 120_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false && value !== null) return value as T;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Live (not zombie) processes of a process group, from /proc. */
export async function groupMembers(pgid: number): Promise<Array<{ pid: number; comm: string }>> {
  const found: Array<{ pid: number; comm: string }> = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state !== 'Z' && Number(group) === pgid) found.push({ pid: Number(entry), comm });
  }
  return found;
}

export interface WorkerProcess {
  child: ChildProcess;
  pgid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface VideoState {
  status: string;
  processing_stage: string | null;
  media_version: number;
  playback_version: number | null;
  failure_code: string | null;
  failure_message: string | null;
}

export interface JobState {
  id: string;
  attempts: number;
  locked_by: string | null;
  /** Seconds since it was locked. */
  locked_for_s: number | null;
}

/** Worker processes sharing the database and data folder of the API `t`, as nodes of one site. */
export class WorkerProcesses {
  private readonly running = new Set<WorkerProcess>();

  constructor(
    private readonly t: TestApp,
    private readonly dataDir: string,
    private readonly env: Record<string, string>,
  ) {}

  get workDir(): string {
    return path.join(this.dataDir, 'work');
  }

  async start(env: Record<string, string> = {}): Promise<WorkerProcess> {
    const child = spawn(process.execPath, ['bin/vireo.js', 'worker'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        DATABASE_URL: this.t.db.url,
        DATA_DIR: this.dataDir,
        LOG_LEVEL: 'info',
        WORKER_POLL_INTERVAL_MS: '200',
        ...this.env,
        ...env,
      },
    });
    let out = '';
    const append = (c: Buffer) => {
      out += c.toString();
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const w: WorkerProcess = {
      child,
      pgid: child.pid!,
      output: () => out,
      exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    };
    this.running.add(w);
    void w.exited.then(() => this.running.delete(w));
    await waitFor('the worker to run', () => out.includes('job worker running') || undefined);
    return w;
  }

  /** SIGKILL to the whole group, as when a machine's worker is killed; waits until all of it is gone. */
  async kill(w: WorkerProcess): Promise<void> {
    process.kill(-w.pgid, 'SIGKILL');
    await w.exited;
    await waitFor('the killed group to be gone', async () => (await groupMembers(w.pgid)).length === 0);
  }

  async stop(w: WorkerProcess): Promise<void> {
    process.kill(w.pgid, 'SIGTERM');
    const { code } = await w.exited;
    assert.equal(code, 0, w.output().slice(-3000));
  }

  /** Kills whatever is still running (a test that failed half way). */
  async killAll(): Promise<void> {
    for (const w of this.running) {
      try {
        process.kill(-w.pgid, 'SIGKILL');
      } catch {
        // already gone
      }
      await w.exited;
    }
  }

  /** What an upload's completion does: source into the store, then uploaded + job in one transaction. */
  async submit(ownerId: string, file: string): Promise<string> {
    const { videos, store, database } = this.t.app;
    const video = await videos.register(database.db, {
      ownerId,
      title: path.basename(file),
      filename: path.basename(file),
      size: null,
    });
    const key = `sources/${video.id}/original`;
    await store.putFile(key, file);
    const { size } = await fs.stat(file);
    await database.db.transaction().execute(async (tx) => {
      await videos.markUploaded(tx, video.id, { key, size });
      await enqueue(tx, processVideoJobType, { videoId: video.id });
    });
    return video.id;
  }

  async video(id: string): Promise<VideoState> {
    const { rows } = await this.t.app.database.pool.query<VideoState>(
      `select status, processing_stage, media_version, playback_version, failure_code, failure_message
       from videos where id = $1`,
      [id],
    );
    return rows[0]!;
  }

  async job(videoId: string): Promise<JobState | undefined> {
    const { rows } = await this.t.app.database.pool.query<JobState>(
      `select j.id::text, j.attempts, j.locked_by, extract(epoch from now() - j.locked_at)::float8 as locked_for_s
       from graphile_worker.jobs j join graphile_worker._private_jobs p on p.id = j.id
       where p.payload->>'videoId' = $1`,
      [videoId],
    );
    return rows[0];
  }

  /** Waits until `w` encodes the video: stage `encoding` and an ffmpeg in its group. */
  async encodingOn(w: WorkerProcess, id: string): Promise<void> {
    await waitFor('the encode to start', async () => {
      const v = await this.video(id);
      if (v.status === 'ready') assert.fail('the encode ended before the worker could be stopped');
      if (v.processing_stage !== 'encoding') return undefined;
      return (await groupMembers(w.pgid)).some((p) => p.comm === 'ffmpeg') || undefined;
    });
  }

  async ready(id: string): Promise<VideoState> {
    return waitFor('ready', async () => {
      const v = await this.video(id);
      assert.notEqual(v.status, 'failed', JSON.stringify(v));
      return v.status === 'ready' ? v : undefined;
    });
  }
}
