// Crash safety of the job worker: `vireo worker` processes killed (SIGKILL) or stopped (SIGTERM) in the
// middle of an encode, next to an API started here; then the liveness sweep itself, in process, against
// live and dead lockers.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type pg from 'pg';
import { z } from 'zod';
import { processVideoJobType } from '../src/modules/transcoding/index.ts';
import { createDatabase, type Database } from '../src/platform/db/database.ts';
import { type AnyJob, defineJob, type GiveUpReason, JobRegistry } from '../src/platform/jobs/definition.ts';
import { enqueue } from '../src/platform/jobs/enqueue.ts';
import { startWorker } from '../src/platform/jobs/worker.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { groupMembers } from './helpers/worker-process.ts';

const root = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 120_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false && value !== null) return value as T;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface WorkerProcess {
  child: ChildProcess;
  pgid: number;
  stdout: () => string;
  /** From spawn to the worker taking jobs. */
  bootMs: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const spawned = new Set<WorkerProcess>();
after(() => {
  for (const w of spawned) {
    try {
      process.kill(-w.pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

interface VideoState {
  status: string;
  processing_stage: string | null;
  media_version: number;
  failure_code: string | null;
  failure_message: string | null;
}

interface JobState {
  id: string;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  last_error: string | null;
}

describe('worker processes killed mid-encode', () => {
  let t: TestApp;
  let dataDir: string;
  let clips: string;
  let clip: string;
  let owner: Awaited<ReturnType<typeof registerUser>>;
  const media = {
    LADDER_RUNGS: '240,360',
    SEGMENT_SECONDS: '2',
    // Slow enough that the encode is still running when a worker is killed.
    ENCODE_PRESET: 'slow',
    ENCODE_CRF: '30',
  };

  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-crash-'));
    // The API and the worker processes share the database and the storage folder, as nodes of one site.
    t = await startTestApp({ DATA_DIR: dataDir, ...media }, { role: 'api' });
    owner = await registerUser(t);
    clips = await tempDir();
    clip = await makeClip(clips, 'long', { width: 640, height: 360, seconds: 8 });
  });
  after(async () => {
    await t.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(clips, { recursive: true, force: true });
  });

  // A test that failed half way must not leave a worker to take the next test's job.
  afterEach(async () => {
    for (const w of spawned) {
      process.kill(w.pgid, 'SIGTERM');
      await w.exited;
    }
  });

  const workDir = () => path.join(dataDir, 'work');
  const tmpDir = () => path.join(dataDir, 'tmp');

  /** `vireo worker` in a process group of its own, so that a kill takes its ffmpeg with it. */
  async function startWorkerProcess(env: Record<string, string> = {}): Promise<WorkerProcess> {
    await fs.mkdir(tmpDir(), { recursive: true });
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, ['bin/vireo.js', 'worker'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        // Anything a run writes outside WORK_DIR lands here, where the test can look for leftovers.
        TMPDIR: tmpDir(),
        DATABASE_URL: t.db.url,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        WORKER_POLL_INTERVAL_MS: '200',
        ...media,
        ...env,
      },
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const w: WorkerProcess = {
      child,
      pgid: child.pid!,
      stdout: () => out,
      bootMs: 0,
      exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    };
    spawned.add(w);
    void w.exited.then(() => spawned.delete(w));
    await waitFor('the worker to run', () => out.includes('job worker running') || undefined, 60_000);
    w.bootMs = Date.now() - spawnedAt;
    return w;
  }

  /** What an upload's completion does: source into the store, then uploaded + job in one transaction. */
  async function submit(opts: { maxAttempts?: number } = {}): Promise<string> {
    const { videos, store, database } = t.app;
    const video = await videos.register(database.db, {
      ownerId: owner.id,
      title: 'long',
      filename: 'long.mp4',
      size: null,
    });
    const key = `sources/${video.id}/original`;
    await store.putFile(key, clip);
    const { size } = await fs.stat(clip);
    await database.db.transaction().execute(async (tx) => {
      await videos.markUploaded(tx, video.id, { key, size });
      await enqueue(tx, processVideoJobType, { videoId: video.id }, { maxAttempts: opts.maxAttempts });
    });
    return video.id;
  }

  async function video(id: string): Promise<VideoState> {
    const { rows } = await t.app.database.pool.query<VideoState>(
      'select status, processing_stage, media_version, failure_code, failure_message from videos where id = $1',
      [id],
    );
    return rows[0]!;
  }

  async function job(videoId: string): Promise<JobState | undefined> {
    const { rows } = await t.app.database.pool.query<JobState>(
      `select j.id::text, j.attempts, j.max_attempts, j.locked_by, j.last_error
       from graphile_worker.jobs j join graphile_worker._private_jobs p on p.id = j.id
       where p.payload->>'videoId' = $1`,
      [videoId],
    );
    return rows[0];
  }

  /** Waits until the video is being encoded by worker `w`: stage `encoding` and its ffmpeg running. */
  async function encodingOn(w: WorkerProcess, id: string): Promise<void> {
    await waitFor('the encode to start', async () => {
      const v = await video(id);
      if (v.status === 'ready') assert.fail('the encode ended before the worker could be stopped');
      if (v.processing_stage !== 'encoding') return undefined;
      return (await groupMembers(w.pgid)).some((p) => p.comm === 'ffmpeg') || undefined;
    });
  }

  async function killGroup(w: WorkerProcess): Promise<number> {
    process.kill(-w.pgid, 'SIGKILL');
    const at = Date.now();
    await w.exited;
    await waitFor(
      'the killed process group to be gone',
      async () => (await groupMembers(w.pgid)).length === 0,
    );
    return at;
  }

  async function stopWorkerProcess(w: WorkerProcess): Promise<void> {
    process.kill(w.pgid, 'SIGTERM');
    const { code } = await w.exited;
    assert.equal(code, 0, w.stdout().slice(-3000));
    assert.deepEqual(await groupMembers(w.pgid), [], 'nothing of the worker is left running');
  }

  /** Every file the HLS playlists of the stored version name exists, and the DASH manifest is there. */
  async function assertComplete(id: string, version: number): Promise<void> {
    const base = path.join(dataDir, 'storage', 'videos', id, String(version));
    const files = (await fs.readdir(base, { recursive: true })).map((f) => f.split(path.sep).join('/'));
    const master = files.find((f) => f.endsWith('master.m3u8'));
    assert.ok(master, `no master playlist among ${files.join(', ')}`);
    assert.ok(
      files.some((f) => f.endsWith('.mpd')),
      'a DASH manifest',
    );
    const seen = new Set<string>();
    const visit = async (rel: string): Promise<void> => {
      if (seen.has(rel)) return;
      seen.add(rel);
      const full = path.join(base, rel);
      const stat = await fs.stat(full).catch(() => undefined);
      assert.ok(stat && stat.size > 0, `${rel} is named by a playlist but not stored`);
      if (!rel.endsWith('.m3u8')) return;
      const text = await fs.readFile(full, 'utf8');
      if (rel !== master) assert.match(text, /#EXT-X-ENDLIST/, `${rel} is complete`);
      const uris = [
        ...text.split('\n').filter((l) => l.trim() && !l.startsWith('#')),
        ...[...text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!),
      ];
      for (const uri of uris) await visit(path.posix.join(path.posix.dirname(rel), uri.trim()));
    };
    await visit(master);
    assert.ok(
      [...seen].some((f) => f.endsWith('.m4s')),
      'segments are named and stored',
    );
  }

  /** Nothing of the video in the scratch folders: WORK_DIR, nor the temp folder of the workers. */
  async function assertNoScratch(id: string): Promise<void> {
    for (const dir of [workDir(), tmpDir()]) {
      const names = await fs.readdir(dir, { recursive: true }).catch(() => [] as string[]);
      assert.deepEqual(
        names.filter((n) => n.includes(id)),
        [],
        `leftovers in ${dir}`,
      );
    }
  }

  it("a SIGKILLed worker's job completes on a new worker, clean and complete", async (ctx) => {
    const first = await startWorkerProcess();
    const id = await submit();
    await encodingOn(first, id);
    const lockedBy = (await job(id))!.locked_by;
    assert.ok(lockedBy);

    const killedAt = await killGroup(first);
    const killedRun = await video(id);
    const second = await startWorkerProcess();
    const picked = await waitFor('the job to be taken again', async () => {
      const j = await job(id);
      return j?.locked_by && j.locked_by !== lockedBy ? Date.now() : undefined;
    });
    ctx.diagnostic(
      `SIGKILL to job taken again: ${picked - killedAt} ms, of which the new worker's start ${second.bootMs} ms`,
    );

    await waitFor('ready', async () => {
      const v = await video(id);
      assert.notEqual(v.status, 'failed', JSON.stringify(v));
      return v.status === 'ready' || undefined;
    });
    const done = await video(id);
    // A run killed once its version was playable is continued (viewers may be watching it).
    if (killedRun.status === 'playable') assert.equal(done.media_version, killedRun.media_version);
    else assert.ok(done.media_version > killedRun.media_version, 'the retry ran as a new version');
    await waitFor('the job to be finished', async () => (await job(id)) === undefined);
    await assertComplete(id, done.media_version);
    assert.deepEqual(
      await fs.readdir(path.join(dataDir, 'storage', 'videos', id)),
      [String(done.media_version)],
      'only the final version is stored',
    );
    await assertNoScratch(id);
    assert.match(second.stdout(), /released the jobs of a worker that stopped/);
    await stopWorkerProcess(second);
  });

  it('a worker killed during the last attempt leaves the video failed with the reason', async (ctx) => {
    // Two workers; the one that takes the job is killed, the other must leave the job alone while its
    // worker lives, then find it dead.
    const pair = [await startWorkerProcess(), await startWorkerProcess()];
    const id = await submit({ maxAttempts: 1 });
    const running = await waitFor('the encode to start', async () => {
      const v = await video(id);
      if (v.status === 'ready') assert.fail('the encode ended before the worker could be stopped');
      if (v.processing_stage !== 'encoding') return undefined;
      for (const w of pair) if ((await groupMembers(w.pgid)).some((p) => p.comm === 'ffmpeg')) return w;
      return undefined;
    });
    const standby = pair.find((w) => w !== running)!;
    const killedAt = await killGroup(running);

    const failed = await waitFor('failed', async () => {
      const v = await video(id);
      return v.status === 'failed' ? v : undefined;
    });
    ctx.diagnostic(`SIGKILL to video failed (running worker's sweep): ${Date.now() - killedAt} ms`);
    assert.equal(failed.failure_code, 'PROCESSING_FAILED');
    assert.match(failed.failure_message ?? '', /worker .*went away/);
    const j = (await job(id))!;
    assert.deepEqual([j.locked_by, j.attempts, j.max_attempts], [null, 1, 1], 'never run again');
    assert.match(j.last_error ?? '', /worker .*stopped/);
    const stored = await fs.readdir(path.join(dataDir, 'storage', 'videos', id)).catch(() => []);
    assert.deepEqual(stored, [], 'the dead run left nothing in the store');
    const scratch = await fs.readdir(workDir()).catch(() => [] as string[]);
    assert.deepEqual(
      scratch.filter((n) => n.includes(id)),
      [],
    );
    await stopWorkerProcess(standby);
  });

  it('SIGTERM mid-encode exits within the shutdown bound and hands the job back', async (ctx) => {
    const shutdownMs = 500;
    const first = await startWorkerProcess({ SHUTDOWN_TIMEOUT_MS: String(shutdownMs) });
    const id = await submit();
    await encodingOn(first, id);

    const signalledAt = Date.now();
    process.kill(first.pgid, 'SIGTERM');
    const { code } = await first.exited;
    const took = Date.now() - signalledAt;
    ctx.diagnostic(`SIGTERM to exit: ${took} ms (SHUTDOWN_TIMEOUT_MS=${shutdownMs})`);
    assert.equal(code, 0, first.stdout().slice(-3000));
    // Generous for a loaded machine; what matters is that it is not the 4-hour lock.
    assert.ok(took < shutdownMs + 15_000, `exit took ${took} ms`);
    // Killed as the job was handed back; the kernel may take a moment to end it.
    await waitFor(
      'ffmpeg to be gone with its worker',
      async () => (await groupMembers(first.pgid)).length === 0,
      5000,
    );
    const handedBack = (await job(id))!;
    assert.equal(handedBack.locked_by, null, 'handed back, not left locked');
    assert.ok(handedBack.attempts < handedBack.max_attempts, 'it will run again');
    assert.match(handedBack.last_error ?? '', /handed back/);

    const second = await startWorkerProcess();
    await waitFor('ready', async () => {
      const v = await video(id);
      assert.notEqual(v.status, 'failed', JSON.stringify(v));
      return v.status === 'ready' || undefined;
    });
    const done = await video(id);
    await assertComplete(id, done.media_version);
    assert.deepEqual(await fs.readdir(path.join(dataDir, 'storage', 'videos', id)), [
      String(done.media_version),
    ]);
    await assertNoScratch(id);
    await stopWorkerProcess(second);
  });

  it('SIGTERM with time to spare lets the running encode finish, then exits 0', async (ctx) => {
    const shutdownMs = 120_000;
    const w = await startWorkerProcess({ SHUTDOWN_TIMEOUT_MS: String(shutdownMs) });
    const id = await submit();
    await encodingOn(w, id);

    const signalledAt = Date.now();
    process.kill(w.pgid, 'SIGTERM');
    const { code } = await w.exited;
    const took = Date.now() - signalledAt;
    ctx.diagnostic(`SIGTERM to exit, the encode finishing first: ${took} ms`);
    assert.equal(code, 0, w.stdout().slice(-3000));
    assert.match(w.stdout(), /"signal":"SIGTERM".*"msg":"shutting down"/);
    assert.ok(took < shutdownMs, `exit took ${took} ms`);
    // The job ran to its end before the process went: the video is ready and the job done, not handed
    // back to run again.
    const done = await video(id);
    assert.equal(done.status, 'ready', JSON.stringify(done));
    assert.equal(done.media_version, 1);
    assert.equal(await job(id), undefined, 'the job is finished');
    await assertComplete(id, done.media_version);
    await assertNoScratch(id);
    assert.deepEqual(await groupMembers(w.pgid), [], 'nothing of the worker is left running');
  });

  it("a SIGKILLed worker's ffmpeg dies with it, the worker alone being killed", async (ctx) => {
    const w = await startWorkerProcess();
    const id = await submit({ maxAttempts: 1 });
    await encodingOn(w, id);
    // Once playable, the stills' ffmpeg runs beside the encode: kill while both run if that comes soon.
    await waitFor('playable', async () => {
      const v = await video(id);
      if (v.status === 'ready') assert.fail('the encode ended before the worker could be killed');
      return v.status === 'playable' || undefined;
    });
    for (let i = 0; i < 100; i++) {
      if ((await groupMembers(w.pgid)).filter((p) => p.comm === 'ffmpeg').length > 1) break;
      await sleep(20);
    }
    const media = (await groupMembers(w.pgid)).filter((p) => p.comm === 'ffmpeg');
    try {
      // Not the process group, as a supervisor or the OOM killer would kill it.
      process.kill(w.child.pid!, 'SIGKILL');
      await w.exited;
      const killedAt = Date.now();
      for (;;) {
        const left = await groupMembers(w.pgid);
        if (left.length === 0) break;
        assert.ok(Date.now() - killedAt < 2000, `left running after the worker: ${JSON.stringify(left)}`);
        await sleep(20);
      }
      ctx.diagnostic(`${media.length} ffmpeg gone ${Date.now() - killedAt} ms after the worker`);
    } finally {
      try {
        process.kill(-w.pgid, 'SIGKILL');
      } catch {
        // nothing left
      }
      // The dead worker's job is not for the next test's workers.
      await t.app.database.pool.query(
        `delete from graphile_worker._private_jobs where payload->>'videoId' = $1`,
        [id],
      );
    }
  });
});

describe('liveness sweep', () => {
  let tdb: TestDatabase;
  const databases: Database[] = [];
  const runs: string[] = [];
  const givenUp: Array<{ n: number; reason: GiveUpReason }> = [];
  let release = () => {};
  const blocked = new Promise<void>((r) => {
    release = r;
  });
  const holdJob = defineJob({
    name: 'test.hold',
    payload: z.object({ n: z.number() }),
    handler: async ({ n }, ctx) => {
      runs.push(`hold ${n} attempt ${ctx.attempts}`);
      await Promise.race([blocked, new Promise((r) => ctx.signal.addEventListener('abort', r))]);
      return 'done';
    },
    onGiveUp: async ({ n }, reason) => {
      givenUp.push({ n, reason });
    },
  });
  const failing = defineJob({
    name: 'test.fail',
    payload: z.object({ n: z.number() }),
    handler: async () => {
      throw new Error('the source is unreadable');
    },
    onGiveUp: async ({ n }, reason) => {
      givenUp.push({ n, reason });
    },
  });
  const workers: Array<{ stop(): Promise<void> }> = [];
  const timing = { intervalMs: 100, graceMs: 300 };

  async function node(jobs: AnyJob[]) {
    const database = createDatabase(tdb.url, 4);
    databases.push(database);
    const worker = await startWorker({
      pool: database.pool,
      registry: new JobRegistry().add(...jobs),
      logger: createLogger('silent'),
      concurrency: 1,
      pollIntervalMs: 100,
      shutdownTimeoutMs: 1000,
      liveness: timing,
    });
    workers.push(worker);
    return database;
  }

  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
    (await databases[0]!.pool.query<R>(text, values)).rows;

  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => {
    release();
    for (const w of workers) await w.stop();
    for (const d of databases) await d.close();
    await tdb.drop();
  });

  it("never frees a live worker's job, and frees a dead one's at once", async () => {
    await node([holdJob, failing]);
    await node([holdJob, failing]);
    const [added] = await query<{ id: string }>(
      `select id::text from graphile_worker.add_job('test.hold', '{"n":1}'::json, max_attempts => 3)`,
    );
    const lockedBy = await waitFor('the job to start', async () => {
      const [j] = await query<{ locked_by: string | null }>(
        'select locked_by from graphile_worker.jobs where id = $1',
        [added!.id],
      );
      return j?.locked_by ?? undefined;
    });
    // Many sweeps of both nodes later, the job is still where it was, and ran once.
    await sleep(timing.graceMs + 20 * timing.intervalMs);
    const [still] = await query<{ locked_by: string }>(
      'select locked_by from graphile_worker.jobs where id = $1',
      [added!.id],
    );
    assert.equal(still!.locked_by, lockedBy);
    assert.deepEqual(runs, ['hold 1 attempt 1']);

    // Jobs locked by a worker that holds no marker, as a killed one leaves them: one to retry, one on
    // its last attempt. Locked in the transaction that adds them, so no live worker takes them first.
    const client = await databases[0]!.pool.connect();
    let retryId: string;
    let lastId: string;
    try {
      await client.query('begin');
      const add = async (n: number, attempts: number) => {
        const { rows } = await client.query<{ id: string }>(
          `select id::text from graphile_worker.add_job('test.hold', $1::json, max_attempts => 2)`,
          [JSON.stringify({ n })],
        );
        await client.query(
          `update graphile_worker._private_jobs set locked_by = 'pool-dead', locked_at = now() - interval '1 minute',
           attempts = $2 where id = $1`,
          [rows[0]!.id, attempts],
        );
        return rows[0]!.id;
      };
      retryId = await add(2, 1);
      lastId = await add(3, 2);
      await client.query('commit');
    } finally {
      client.release();
    }
    release();
    await waitFor(
      "the dead worker's job to run again",
      () => runs.includes('hold 2 attempt 2') || undefined,
      30_000,
    );
    await waitFor('the give-up hook', () => givenUp.length > 0 || undefined, 30_000);
    assert.deepEqual(givenUp, [
      { n: 3, reason: { cause: 'worker_lost', message: givenUp[0]!.reason.message } },
    ]);
    const [last] = await query<{ locked_by: string | null; last_error: string | null; attempts: number }>(
      'select locked_by, last_error, attempts from graphile_worker.jobs where id = $1',
      [lastId],
    );
    assert.equal(last!.locked_by, null);
    assert.match(last!.last_error ?? '', /stopped during its last attempt/);
    assert.ok(!runs.some((r) => r.startsWith('hold 3')), 'a job past its last attempt never runs');
    await waitFor('the retried job to finish', async () => {
      const rows = await query('select 1 from graphile_worker.jobs where id = $1', [retryId]);
      return rows.length === 0 || undefined;
    });
  });

  it('calls the give-up hook when the last attempt throws, and not before', async () => {
    givenUp.length = 0;
    await query(`select graphile_worker.add_job('test.fail', '{"n":4}'::json, max_attempts => 2)`);
    await waitFor('the give-up hook', () => givenUp.length > 0 || undefined, 30_000);
    const [row] = await query<{ attempts: number }>(
      `select attempts from graphile_worker.jobs where task_identifier = 'test.fail'`,
    );
    assert.equal(row!.attempts, 2, 'given up after the last attempt only');
    assert.deepEqual(givenUp, [{ n: 4, reason: { cause: 'error', message: 'the source is unreadable' } }]);
  });
});
