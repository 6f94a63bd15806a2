// The job platform on a real graphile-worker: transactional enqueue, retries with backoff, payload
// checks, the registry, and what happens to a running job when the app stops.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { ZodError, z } from 'zod';
import { startApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import {
  type AnyJob,
  defineJob,
  type JobContext,
  JobRegistry,
  JobRegistryError,
} from '../src/platform/jobs/definition.ts';
import { enqueue } from '../src/platform/jobs/enqueue.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createTestDatabase } from './helpers/database.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface JobRow {
  id: string;
  task_identifier: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: Date;
  locked_at: Date | null;
}

// biome-ignore lint/suspicious/noExplicitAny: reads graphile-worker's own view, typed by JobRow
async function jobRow(db: Kysely<any>, id: string): Promise<JobRow | undefined> {
  const { rows } = await sql<JobRow>`
    select id::text, task_identifier, attempts, max_attempts, last_error, run_at, locked_at
    from graphile_worker.jobs where id = ${id}::bigint`.execute(db);
  return rows[0];
}

/** Log lines at warn level or above, captured from a logger handed to the app. */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, problems: () => lines.filter((l) => l.level >= 40) };
}

describe('jobs', () => {
  const recorded: Array<{ n: number; ctx: JobContext }> = [];
  const recordJob = defineJob({
    name: 'test.record',
    payload: z.object({ n: z.number().int() }),
    handler: async (payload, ctx) => {
      recorded.push({ n: payload.n, ctx });
      return 'done';
    },
  });

  const flaky: Array<{ attempts: number; at: number }> = [];
  const flakyJob = defineJob({
    name: 'test.flaky',
    payload: z.object({}),
    handler: async (_payload, ctx) => {
      flaky.push({ attempts: ctx.attempts, at: Date.now() });
      if (ctx.attempts === 1) throw new Error('first attempt fails');
      return 'done';
    },
  });

  let t: TestApp;
  before(async () => {
    t = await startTestApp({}, { jobs: [recordJob, flakyJob] });
  });
  after(() => t.stop());

  const calls = (n: number) => recorded.filter((r) => r.n === n);

  it('never runs a job enqueued in a transaction that rolled back', async () => {
    let id = '';
    await assert.rejects(
      t.app.database.db.transaction().execute(async (tx) => {
        id = await enqueue(tx, recordJob, { n: 1 });
        assert.ok(await jobRow(tx, id), 'the job is visible inside its own transaction');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.ok(id);
    await sleep(1000); // five poll intervals
    assert.equal(calls(1).length, 0);
    assert.equal(await jobRow(t.app.database.db, id), undefined);
  });

  it('runs a job enqueued in a committed transaction exactly once, after the commit', async () => {
    const id = await t.app.database.db.transaction().execute(async (tx) => {
      const jobId = await enqueue(tx, recordJob, { n: 2 });
      await sleep(600);
      assert.equal(calls(2).length, 0, 'the worker must not see the job before the commit');
      return jobId;
    });
    await waitFor('the job to run', () => calls(2).length === 1);
    await waitFor('the job row to go', async () => (await jobRow(t.app.database.db, id)) === undefined);
    await sleep(1000);
    assert.equal(calls(2).length, 1);
    const { ctx } = calls(2)[0]!;
    assert.equal(ctx.jobId, id);
    assert.equal(ctx.attempts, 1);
    assert.equal(ctx.maxAttempts, 25);
  });

  it('retries a failed job with exponential backoff', async () => {
    const db = t.app.database.db;
    const id = await enqueue(db, flakyJob, {}, { maxAttempts: 3 });
    const failed = await waitFor('the first attempt to be recorded as failed', async () => {
      const row = await jobRow(db, id);
      return row && row.attempts === 1 && row.locked_at === null && row.last_error ? row : undefined;
    });
    assert.equal(failed.last_error, 'first attempt fails');
    assert.equal(failed.max_attempts, 3);
    // graphile-worker waits e^attempts seconds: about 2.7 s after the first failure.
    const delay = (failed.run_at.getTime() - flaky[0]!.at) / 1000;
    assert.ok(delay > 2.4 && delay < 3.2, `retry scheduled ${delay} s after the failure`);
    assert.equal(flaky.length, 1, 'no retry before run_at');

    await waitFor('the second attempt', () => flaky.length === 2, 8000);
    assert.equal(flaky[1]!.attempts, 2);
    const waited = (flaky[1]!.at - flaky[0]!.at) / 1000;
    assert.ok(waited >= 2.5, `retried after ${waited} s`);
    await waitFor('the job row to go', async () => (await jobRow(db, id)) === undefined);
  });

  it('refuses an invalid payload at enqueue', async () => {
    const db = t.app.database.db;
    const count = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs`.execute(db)).rows[0]!.n;
    const before = await count();
    // @ts-expect-error the payload type is checked at compile time too
    await assert.rejects(enqueue(db, recordJob, { n: 'three' }), ZodError);
    await assert.rejects(enqueue(db, recordJob, { n: 3.5 }), ZodError);
    assert.equal(await count(), before);
  });

  it('fails a job whose stored payload is invalid without calling the handler', async () => {
    // Only a job added around enqueue() can carry such a payload, e.g. one written by an older version.
    const db = t.app.database.db;
    const { rows } = await sql<{ id: string }>`
      select id::text from graphile_worker.add_job('test.record', '{"n":"four"}'::json, max_attempts => 1)
    `.execute(db);
    const id = rows[0]!.id;
    const row = await waitFor('the job to fail', async () => {
      const r = await jobRow(db, id);
      return r && r.attempts === 1 && r.locked_at === null ? r : undefined;
    });
    assert.match(row.last_error ?? '', /^invalid payload: n$/);
    assert.equal(recorded.length, calls(2).length, 'the handler never ran');
  });
});

describe('job registry', () => {
  const job = (name: string) => defineJob({ name, payload: z.object({}), handler: async () => 'done' });

  it('refuses two jobs with one name, and names that are not names', () => {
    assert.throws(() => new JobRegistry().add(job('a.b'), job('a.b')), JobRegistryError);
    assert.throws(() => new JobRegistry().add(job('Not A Name')), JobRegistryError);
    assert.deepEqual(
      new JobRegistry()
        .add(job('a.b'), job('a.c'))
        .all()
        .map((j) => j.name),
      ['a.b', 'a.c'],
    );
  });

  it('fails the boot when two jobs share a name', async () => {
    const db = await createTestDatabase();
    try {
      const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: db.url, LOG_LEVEL: 'silent' });
      const boot = (jobs: AnyJob[]) => startApp(config, { role: 'all', jobs });
      await assert.rejects(boot([job('test.twice'), job('test.twice')]), /"test\.twice" is defined twice/);
      // A module cannot take the name of a platform job either.
      await assert.rejects(boot([job('platform.sweep_rate_limits')]), JobRegistryError);
    } finally {
      await db.drop();
    }
  });
});

describe('jobs at shutdown', () => {
  let started = 0;
  let finished = 0;
  let abortedAt = 0;
  const slowJob = (ms: number) =>
    defineJob({
      name: 'test.slow',
      payload: z.object({}),
      handler: async (_payload, ctx) => {
        started = Date.now();
        ctx.signal.addEventListener('abort', () => {
          abortedAt = Date.now();
        });
        await sleep(ms);
        finished = Date.now();
        return 'done';
      },
    });

  /** Reads the job's row after the app has closed its own pool. */
  async function rowAfterStop(url: string, id: string) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<JobRow>(
        'select id::text, attempts, last_error, locked_at, run_at from graphile_worker.jobs where id = $1',
        [id],
      );
      return rows[0];
    } finally {
      await client.end();
    }
  }

  // What `vireo` does on SIGTERM, called in process; worker-crash.test.ts sends the signal to a process.
  it('lets a running job finish when the app stops, within SHUTDOWN_TIMEOUT_MS', async () => {
    started = finished = abortedAt = 0;
    const { logger, problems } = capturingLogger();
    const t = await startTestApp({ SHUTDOWN_TIMEOUT_MS: '5000' }, { jobs: [slowJob(1500)], logger });
    try {
      const id = await enqueue(t.app.database.db, slowJob(0), {});
      await waitFor('the job to start', () => started > 0);
      const stopAt = Date.now();
      const stopping = t.app.stop();
      assert.equal(finished, 0, 'the job was still running when the stop began');
      await stopping;
      const took = Date.now() - stopAt;
      assert.ok(finished > 0, 'stop returned only once the job had run to its end');
      assert.ok(took < 5000, `stop took ${took} ms`);
      assert.equal(abortedAt, 0, 'the job was not asked to abort');
      assert.equal(await rowAfterStop(t.db.url, id), undefined, 'the finished job is gone from the queue');
      assert.deepEqual(problems(), []);
    } finally {
      await t.db.drop();
    }
  });

  it('hands a job that outlasts SHUTDOWN_TIMEOUT_MS back to the queue', async () => {
    started = finished = abortedAt = 0;
    const { logger } = capturingLogger();
    const t = await startTestApp({ SHUTDOWN_TIMEOUT_MS: '500' }, { jobs: [slowJob(4000)], logger });
    try {
      const id = await enqueue(t.app.database.db, slowJob(0), {});
      await waitFor('the job to start', () => started > 0);
      const stopAt = Date.now();
      await t.app.stop();
      const took = Date.now() - stopAt;
      assert.ok(took < 2500, `stop took ${took} ms`);
      assert.equal(finished, 0, 'the job was still running');
      assert.ok(abortedAt > 0, 'the job saw its signal abort');
      // Unlocked at once, so another worker retries it, rather than locked until the lock times out.
      const row = await rowAfterStop(t.db.url, id);
      assert.ok(row, 'the job is still queued');
      assert.equal(row.locked_at, null);
      assert.equal(row.attempts, 1);
      assert.match(row.last_error ?? '', /shut/i);
    } finally {
      await t.db.drop();
    }
  });
});
