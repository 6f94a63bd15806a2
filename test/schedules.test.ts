// Periodic jobs run through graphile-worker's crontab on every worker node, and each period's run
// happens once however many workers there are: they race for the slot in _private_known_crontabs and
// one of them adds the job. Waiting for a real minute is too slow, so the process's clock is moved to
// seconds before the start of a minute (a minute already past in the database's time, so the job is
// due at once) before the two workers start; timers keep real time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { z } from 'zod';
import { defineJob } from '../src/platform/jobs/definition.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { shiftClock } from './helpers/shifted-clock.ts';
import { sleep, waitFor } from './helpers/worker-process.ts';

const MINUTE = 60_000;
/** Time the two workers have to start before the slot: their crons must both be waiting for it. */
const LEAD_MS = 6_000;

const runs: number[] = [];
const tick = defineJob({
  name: 'test.tick',
  payload: z.object({}),
  cron: '* * * * *',
  handler: async () => {
    runs.push(Date.now());
    return 'done';
  },
});

describe('schedules', () => {
  let first: TestApp;
  let second: TestApp;
  let restoreClock: () => void = () => {};

  before(async () => {
    const now = Date.now();
    const slot = now - (now % MINUTE);
    restoreClock = shiftClock(slot - LEAD_MS - now);
    first = await startTestApp({}, { role: 'worker', jobs: [tick] });
    second = await startTestApp({}, { role: 'worker', jobs: [tick] }, { database: first.db });
  });

  after(async () => {
    await second?.stop({ keepDatabase: true });
    await first?.stop();
    restoreClock();
  });

  it('runs a job of the crontab once per period with two workers', async () => {
    // The first minute both crons wait for: `slot` unless a slow start let it pass (then the next one,
    // a minute later; a run of `slot` by the first worker alone does not count).
    const due = (Math.floor(Date.now() / MINUTE) + 1) * MINUTE;
    const ofDue = () => runs.filter((at) => at >= due);
    await waitFor('the run of the slot', () => ofDue().length > 0 || undefined, due - Date.now() + 10_000);
    // Both crons have had their turn at the slot a moment after the first run.
    await sleep(1500);
    const db = first.app.database.db;
    const queued = await sql<{ n: number }>`
      select count(*)::int as n from graphile_worker.jobs where task_identifier = ${tick.name}`.execute(db);
    assert.equal(ofDue().length, 1, 'one run for the slot');
    assert.equal(queued.rows[0]!.n, 0, 'and none waiting');
    // The slot the workers raced for: the one that took it recorded it.
    const { rows } = await sql<{ last_execution: Date }>`
      select last_execution from graphile_worker._private_known_crontabs
      where identifier = ${tick.name}`.execute(db);
    assert.equal(rows[0]?.last_execution.getTime(), due);
  });

  it('schedules the periodic work of the modules', () => {
    const crons = Object.fromEntries(
      first.app.jobs
        .all()
        .filter((j) => j.cron)
        .map((j) => [j.name, j.cron]),
    );
    assert.equal(crons['uploads.expire_uploads'], '*/15 * * * *');
    assert.equal(crons['videos.publish_due'], '* * * * *');
    assert.equal(crons['views.sweep_marks'], '41 * * * *');
  });
});
