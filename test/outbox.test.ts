// The transactional outbox on a real PostgreSQL: emit in the transaction of the change, delivery once
// per change and in order per aggregate (across relay restarts, a second node and a SIGKILL), the
// late-committing transaction that a "last id" cursor would skip, retention, and the lag in /metrics.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ZodError, z } from 'zod';
import { createDatabase, type Database } from '../src/platform/db/database.ts';
import { createEventBus, type EventBus, type EventBusOptions } from '../src/platform/events/bus.ts';
import { emit } from '../src/platform/events/emit.ts';
import { type DeliveredEvent, defineEvent, EventError } from '../src/platform/events/event.ts';
import { outboxLag } from '../src/platform/events/lag.ts';
import { LeaderConnection } from '../src/platform/events/leader-connection.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { startTestApp } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';

const root = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logger = createLogger(process.env.VIREO_TEST_LOG ?? 'silent');

const counted = defineEvent({ type: 'test.counted', payload: z.object({ n: z.number().int() }) });
const other = defineEvent({ type: 'other.happened', payload: z.object({ n: z.number().int() }) });

/** Opened databases and buses, closed after each test whatever happened. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function openDatabase(): Promise<{ db: TestDatabase; database: Database }> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  const database = createDatabase(db.url, 6);
  cleanups.push(() => database.close());
  return { db, database };
}

function bus(database: Database, url: string, more: Partial<EventBusOptions> = {}): EventBus {
  const b = createEventBus({ db: database.db, databaseUrl: url, logger, pollIntervalMs: 100, ...more });
  cleanups.push(() => b.stop());
  return b;
}

/** A subscriber that keeps what it receives. */
function recorder() {
  const got: DeliveredEvent<{ n: number }>[] = [];
  return {
    got,
    handler: async (e: DeliveredEvent<{ n: number }>) => {
      got.push(e);
    },
  };
}

async function emitOne(database: Database, aggregateId: string, n: number, def = counted): Promise<string> {
  return database.db.transaction().execute((tx) => emit(tx, def.create({ aggregateId, payload: { n } })));
}

/** Each id exactly once, and each aggregate's `n` in increasing order. */
function assertOncePerChangeInOrder(got: Array<{ id: string; aggregate: { id: string }; n: number }>) {
  const ids = got.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'an event was delivered twice');
  const last = new Map<string, number>();
  for (const e of got) {
    const before = last.get(e.aggregate.id) ?? -1;
    assert.ok(e.n > before, `aggregate ${e.aggregate.id}: ${e.n} delivered after ${before}`);
    last.set(e.aggregate.id, e.n);
  }
}
const flat = (got: DeliveredEvent<{ n: number }>[]) => got.map((e) => ({ ...e, n: e.payload.n }));

describe('outbox', () => {
  it('never delivers an event emitted in a rolled-back transaction', async () => {
    const { db, database } = await openDatabase();
    const b = bus(database, db.url);
    const rec = recorder();
    b.subscribe(counted, 'rec', rec.handler);
    await b.start();
    await assert.rejects(
      database.db.transaction().execute(async (tx) => {
        await emit(tx, counted.create({ aggregateId: 'a', payload: { n: 1 } }));
        throw new Error('the change fails');
      }),
      /the change fails/,
    );
    const kept = await emitOne(database, 'a', 2);
    await waitFor('the committed event', () => rec.got.some((e) => e.id === kept));
    await sleep(300);
    assert.deepEqual(
      rec.got.map((e) => e.payload.n),
      [2],
    );
  });

  it('checks payloads, types and subscriber names', async () => {
    const { db, database } = await openDatabase();
    await assert.rejects(
      database.db.transaction().execute((tx) =>
        // biome-ignore lint/suspicious/noExplicitAny: a payload of the wrong type, on purpose
        emit(tx, counted.create({ aggregateId: 'a', payload: { n: 'one' as any } })),
      ),
      ZodError,
    );
    assert.throws(() => defineEvent({ type: 'Video Uploaded', payload: z.object({}) }), EventError);
    const b = bus(database, db.url);
    assert.throws(() => b.subscribe('video', 'x', () => {}), EventError);
    assert.throws(() => b.subscribe('*', 'Bad Name', () => {}), EventError);
    b.subscribe('*', 'x', () => {});
    assert.throws(() => b.subscribe('*', 'x', () => {}), /twice/);
    await b.start();
    assert.throws(() => b.subscribe('*', 'y', () => {}), /after the event bus started/);
  });

  it('delivers each change once, in order per aggregate, to every subscriber of its type', async () => {
    const { db, database } = await openDatabase();
    const b = bus(database, db.url, { batchSize: 25 });
    const all = recorder();
    const onlyCounted = recorder();
    b.subscribe('*', 'all', all.handler as (e: DeliveredEvent) => Promise<void>);
    b.subscribe(counted, 'counted', onlyCounted.handler);
    await b.start();
    // Five aggregates written side by side, each one change after the other; some transactions hold
    // two events of one aggregate.
    let emitted = 0;
    await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map(async (id, k) => {
        for (let n = 0; n < 40; ) {
          const def = k % 2 ? other : counted;
          await database.db.transaction().execute(async (tx) => {
            await emit(tx, def.create({ aggregateId: id, payload: { n: n++ } }));
            emitted++;
            if (n % 3 === 0) {
              await emit(tx, def.create({ aggregateId: id, payload: { n: n++ } }));
              emitted++;
            }
          });
        }
      }),
    );
    await waitFor('every event', () => all.got.length >= emitted);
    await waitFor('every counted event', () => onlyCounted.got.length >= 120);
    await sleep(300);
    assert.equal(all.got.length, emitted);
    assertOncePerChangeInOrder(flat(all.got));
    assert.equal(onlyCounted.got.length, 120);
    assert.ok(onlyCounted.got.every((e) => e.type === 'test.counted'));
    assertOncePerChangeInOrder(flat(onlyCounted.got));
  });

  it('is woken by the commit when idle, and polls while events flow', async () => {
    const { db, database } = await openDatabase();
    // Polling alone would take a minute: only the wake-up on commit can deliver in time.
    const b = bus(database, db.url, { pollIntervalMs: 60_000 });
    const rec = recorder();
    b.subscribe('*', 'rec', rec.handler as (e: DeliveredEvent) => Promise<void>);
    await b.start();
    const awake = async () =>
      (
        await sql<{
          awake: boolean;
        }>`select awake_until > clock_timestamp() as awake from outbox_relay`.execute(database.db)
      ).rows[0]!.awake;
    assert.equal(await awake(), false);
    // The relay's first look is over: from now on only a wake-up brings events in.
    await waitFor('the relay', () => b.leading);
    await sleep(300);
    await emitOne(database, 'a', 0);
    await waitFor('the first event', () => rec.got.length >= 1, 5000);
    // Delivering marks the relay awake: emitters skip their NOTIFY meanwhile.
    await waitFor('the relay awake', awake, 2000);
    for (let n = 1; n < 20; n++) await emitOne(database, 'a', n);
    await waitFor('the events emitted while awake', () => rec.got.length >= 20, 5000);
    await waitFor('the relay asleep', async () => !(await awake()), 5000);
    await sleep(200);
    await emitOne(database, 'a', 20);
    await waitFor('the event emitted once asleep', () => rec.got.length >= 21, 5000);
    assertOncePerChangeInOrder(flat(rec.got));
  });

  it('polls as soon as it marks itself awake, when no wake-up brought the events', async () => {
    const { db, database } = await openDatabase();
    // Emitted before any relay runs: found by the relay's first look, not by a wake-up.
    await emitOne(database, 'a', 0);
    const b = bus(database, db.url, { pollIntervalMs: 60_000 });
    const rec = recorder();
    b.subscribe('*', 'rec', rec.handler as (e: DeliveredEvent) => Promise<void>);
    await b.start();
    await waitFor('the first event', () => rec.got.length >= 1, 5000);
    // Emitters now skip their NOTIFY: the relay must be polling.
    for (let n = 1; n < 5; n++) await emitOne(database, 'a', n);
    await waitFor('the events emitted while it is awake', () => rec.got.length >= 5, 5000);
  });

  it('delivers an event whose transaction commits after a later-written one', async () => {
    const { db, database } = await openDatabase();
    const b = bus(database, db.url);
    const rec = recorder();
    b.subscribe('*', 'rec', rec.handler as (e: DeliveredEvent) => Promise<void>);
    await b.start();
    // A writes first and commits last: its row has the lower position.
    let commitA!: () => void;
    const aMayCommit = new Promise<void>((r) => (commitA = r));
    let aWrote!: () => void;
    const aHasWritten = new Promise<void>((r) => (aWrote = r));
    const a = database.db.transaction().execute(async (tx) => {
      await emit(tx, counted.create({ aggregateId: 'late', payload: { n: 1 } }));
      aWrote();
      await aMayCommit;
    });
    await aHasWritten;
    await emitOne(database, 'early', 1);
    await emitOne(database, 'early', 2);
    // Several relay rounds while A is open.
    await sleep(500);
    commitA();
    await a;
    await emitOne(database, 'late', 2);
    await waitFor('four events', () => rec.got.length >= 4);
    await sleep(300);
    const seen = flat(rec.got).map((e) => `${e.aggregate.id}${e.n}`);
    assert.deepEqual(seen.filter((s) => s.startsWith('late')).sort(), ['late1', 'late2']);
    assert.equal(rec.got.length, 4);
    assertOncePerChangeInOrder(flat(rec.got));
  });

  it('is not held back by a transaction of another database on the same server', async () => {
    const { db, database } = await openDatabase();
    const elsewhere = await openDatabase();
    const b = bus(database, db.url);
    const rec = recorder();
    b.subscribe('*', 'rec', rec.handler as (e: DeliveredEvent) => Promise<void>);
    await b.start();
    // A writing transaction left open in the other database, older than the event.
    let end!: () => void;
    const ended = new Promise<void>((r) => (end = r));
    let began!: () => void;
    const hasBegun = new Promise<void>((r) => (began = r));
    const open = elsewhere.database.db.transaction().execute(async (tx) => {
      await sql`select pg_current_xact_id()`.execute(tx);
      began();
      await ended;
    });
    cleanups.push(async () => {
      end();
      await open;
    });
    await hasBegun;
    await emitOne(database, 'a', 1);
    await waitFor('the event', () => rec.got.length >= 1, 3000);
  });

  it('keeps the order of an aggregate whose next change comes from a transaction that began earlier', async () => {
    const { db, database } = await openDatabase();
    const b = bus(database, db.url);
    const rec = recorder();
    b.subscribe('*', 'rec', rec.handler as (e: DeliveredEvent) => Promise<void>);
    await b.start();
    let go!: () => void;
    const second = new Promise<void>((r) => (go = r));
    let began!: () => void;
    const hasBegun = new Promise<void>((r) => (began = r));
    // T1 takes its transaction id first (it writes something else), then emits change 2 only once T2
    // has committed change 1: T1's id is the lower one.
    const t1 = database.db.transaction().execute(async (tx) => {
      await sql`select pg_current_xact_id()`.execute(tx);
      began();
      await second;
      await emit(tx, counted.create({ aggregateId: 'x', payload: { n: 2 } }));
    });
    await hasBegun;
    await emitOne(database, 'x', 1);
    go();
    await t1;
    await waitFor('both events', () => rec.got.length >= 2);
    assert.deepEqual(
      rec.got.map((e) => e.payload.n),
      [1, 2],
    );
  });

  it('resumes after a restart without repeating or skipping', async () => {
    const { db, database } = await openDatabase();
    const rec = recorder();
    const first = bus(database, db.url, { batchSize: 7 });
    first.subscribe('*', 'rec', rec.handler as (e: DeliveredEvent) => Promise<void>);
    await first.start();
    for (let n = 0; n < 30; n++) await emitOne(database, `agg${n % 3}`, n);
    await waitFor('the first 30', () => rec.got.length >= 30);
    // Emitted while no relay runs, and while the next one starts.
    const emitting = (async () => {
      for (let n = 30; n < 60; n++) await emitOne(database, `agg${n % 3}`, n);
    })();
    await first.stop();
    const second = bus(database, db.url, { batchSize: 7 });
    second.subscribe('*', 'rec', rec.handler as (e: DeliveredEvent) => Promise<void>);
    await second.start();
    await emitting;
    await waitFor('all 60', () => rec.got.length >= 60);
    await sleep(300);
    assert.equal(rec.got.length, 60);
    assertOncePerChangeInOrder(flat(rec.got));
  });

  it('lets one node relay and another take over when it stops', async () => {
    const { db, database } = await openDatabase();
    const nodes = [recorder(), recorder()];
    const buses = nodes.map((rec) => {
      const b = bus(database, db.url);
      b.subscribe('*', 'rec', rec.handler as (e: DeliveredEvent) => Promise<void>);
      return b;
    });
    await Promise.all(buses.map((b) => b.start()));
    const leader = await waitFor('a leader', () => buses.findIndex((b) => b.leading) + 1);
    const [l, f] = leader === 1 ? [0, 1] : [1, 0];
    assert.equal(buses[f]!.leading, false, 'two relays lead at once');
    for (let n = 0; n < 20; n++) await emitOne(database, `agg${n % 4}`, n);
    await waitFor('20 events', () => nodes[l]!.got.length >= 20);
    assert.equal(nodes[f]!.got.length, 0);
    await buses[l]!.stop();
    for (let n = 20; n < 40; n++) await emitOne(database, `agg${n % 4}`, n);
    await waitFor('the other node', () => nodes[f]!.got.length >= 20);
    await sleep(300);
    const got = [...nodes[l]!.got, ...nodes[f]!.got];
    assert.equal(got.length, 40);
    assertOncePerChangeInOrder(flat(got));
  });

  it('records each event once even while two relays both think they lead', async () => {
    const { db, database } = await openDatabase();
    await sql`
      create table overlap_received (
        seq bigint generated always as identity, event_id uuid not null, aggregate_id text not null,
        n int not null)`.execute(database.db);
    // A leader cut off from the database may go on delivering while another has taken over.
    const tryLead = LeaderConnection.prototype.tryLead;
    LeaderConnection.prototype.tryLead = async () => true;
    cleanups.push(async () => {
      LeaderConnection.prototype.tryLead = tryLead;
    });
    const buses = [0, 1].map(() => {
      const b = bus(database, db.url, { batchSize: 10 });
      b.subscribe(counted, 'rec', async (e, { tx }) => {
        await sql`insert into overlap_received (event_id, aggregate_id, n)
          values (${e.id}, ${e.aggregate.id}, ${e.payload.n})`.execute(tx);
      });
      return b;
    });
    await Promise.all(buses.map((b) => b.start()));
    assert.ok(buses.every((b) => b.leading));
    await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (id) => {
        for (let n = 0; n < 50; n++) await emitOne(database, id, n);
      }),
    );
    const received = async () =>
      (
        await sql<{ id: string; aggregate: { id: string }; n: number }>`
          select event_id::text as id, json_build_object('id', aggregate_id) as aggregate, n
          from overlap_received order by seq`.execute(database.db)
      ).rows;
    await waitFor('every event', async () => (await received()).length >= 200);
    await sleep(300);
    const rows = await received();
    assert.equal(rows.length, 200, 'an event was recorded twice');
    assertOncePerChangeInOrder(rows);
  });

  it('does not hold the other subscribers back behind a slow one', async () => {
    const { db, database } = await openDatabase();
    const b = bus(database, db.url);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    cleanups.push(async () => release());
    const slow = recorder();
    const fast = recorder();
    b.subscribe('*', 'slow', async (e) => {
      await gate;
      await slow.handler(e as DeliveredEvent<{ n: number }>);
    });
    b.subscribe('*', 'fast', fast.handler as (e: DeliveredEvent) => Promise<void>);
    await b.start();
    for (let n = 0; n < 10; n++) await emitOne(database, 'a', n);
    await waitFor('the fast subscriber', () => fast.got.length >= 10);
    // Its handler runs before its batch commits: its progress follows a moment later.
    const lag = await waitFor('the progress of the fast subscriber', async () => {
      const l = await outboxLag(database.db);
      return l.subscribers.find((s) => s.name === 'fast')?.pending === 0 ? l : undefined;
    });
    assert.equal(slow.got.length, 0);
    assert.equal(lag.subscribers.find((s) => s.name === 'slow')?.pending, 10);
    assert.equal(lag.pending, 10);
    assert.ok(lag.oldestSeconds > 0);
    release();
    await waitFor('the slow subscriber', () => slow.got.length >= 10);
    assertOncePerChangeInOrder(flat(slow.got));
    await waitFor('no lag', async () => (await outboxLag(database.db)).pending === 0);
  });

  it('retries a failing handler without skipping its event', async () => {
    const { db, database } = await openDatabase();
    const b = bus(database, db.url);
    const rec = recorder();
    await sql`create table flaky_seen (n int)`.execute(database.db);
    let tries = 0;
    b.subscribe(counted, 'flaky', async (e, { tx }) => {
      // Written through the delivery transaction: undone with the failed attempt.
      await sql`insert into flaky_seen values (${e.payload.n})`.execute(tx);
      if (e.payload.n === 3 && ++tries <= 2) throw new Error('not yet');
      await rec.handler(e);
    });
    await b.start();
    for (let n = 0; n < 6; n++) await emitOne(database, 'a', n);
    // Its handler runs before the batch commits: wait for the subscriber's progress instead.
    await waitFor('the last event', async () => (await outboxLag(database.db)).pending === 0, 30_000);
    assert.equal(tries, 3);
    assert.deepEqual([...new Set(rec.got.map((e) => e.payload.n))], [0, 1, 2, 3, 4, 5]);
    const { rows } = await sql<{ n: number }>`select n from flaky_seen order by n`.execute(database.db);
    assert.deepEqual(
      rows.map((r) => r.n),
      [0, 1, 2, 3, 4, 5],
    );
  });

  it('prunes delivered events past retention and keeps those a subscriber still awaits', async () => {
    const { db, database } = await openDatabase();
    const count = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from outbox_events`.execute(database.db)).rows[0]!
        .n;
    const keeping = bus(database, db.url);
    const rec = recorder();
    keeping.subscribe(counted, 'rec', rec.handler);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    keeping.subscribe(other, 'stuck', () => gate);
    cleanups.push(async () => release());
    await keeping.start();
    for (let n = 0; n < 5; n++) await emitOne(database, 'a', n);
    await emitOne(database, 'b', 0, other);
    await waitFor('five events', () => rec.got.length >= 5);
    assert.equal(await keeping.prune(), 0, 'the default retention keeps delivered events');
    assert.equal(await count(), 6);
    // A relay whose retention is zero: everything delivered may go.
    const pruning = bus(database, db.url, { retentionHours: 0 });
    pruning.subscribe(counted, 'rec', () => {});
    pruning.subscribe(other, 'stuck', () => {});
    assert.equal(await pruning.prune(), 5);
    const { rows } = await sql<{ type: string }>`select type from outbox_events`.execute(database.db);
    assert.deepEqual(
      rows.map((r) => r.type),
      ['other.happened'],
    );
  });
});

describe('outbox relay killed with SIGKILL', () => {
  const children = new Set<ChildProcess>();
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  function startRelayProcess(url: string): { child: ChildProcess; leading: Promise<void> } {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/outbox-relay-process.ts'], {
      cwd: root,
      env: { ...process.env, OUTBOX_TEST_DB: url, OUTBOX_TEST_DELAY_MS: '5', OUTBOX_TEST_BATCH: '20' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    const leading = new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('leading')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`relay process exited (${code}) before leading`)));
    });
    return { child, leading };
  }

  it('records every event exactly once and in order per aggregate, across the kill', async () => {
    const { db, database } = await openDatabase();
    await sql`
      create table outbox_received (
        seq bigint generated always as identity primary key,
        event_id uuid not null, aggregate_id text not null, n int not null, pid int not null)`.execute(
      database.db,
    );
    const received = async () =>
      (
        await sql<{ id: string; aggregate: { id: string }; n: number; pid: number }>`
          select event_id::text as id, json_build_object('id', aggregate_id) as aggregate, n, pid
          from outbox_received order by seq`.execute(database.db)
      ).rows;
    const total = 400;
    for (let n = 0; n < 300; n++) await emitOne(database, `agg${n % 8}`, n);

    const first = startRelayProcess(db.url);
    await first.leading;
    // Not a multiple of the batch size: a relay that commits a handler's writes one by one is then
    // killed in the middle of a batch.
    await waitFor('a part of the events', async () => (await received()).length >= 70);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const atKill = (await received()).length;
    assert.ok(atKill < 300, `the relay was killed after it had delivered everything (${atKill})`);
    for (let n = 300; n < total; n++) await emitOne(database, `agg${n % 8}`, n);

    const second = startRelayProcess(db.url);
    await second.leading;
    await waitFor('every event', async () => (await received()).length >= total, 60_000);
    await sleep(500);
    const rows = await received();
    assert.equal(rows.length, total, 'an event was recorded twice');
    assertOncePerChangeInOrder(rows);
    const pids = new Set(rows.map((r) => r.pid));
    assert.deepEqual(pids, new Set([first.child.pid, second.child.pid]));
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});

describe('outbox lag in /metrics', () => {
  it('shows the events a subscriber has not received yet', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t = await startTestApp(
      { OUTBOX_POLL_INTERVAL_MS: '100', METRICS_TOKEN: 'outbox-lag-scraper' },
      {
        subscribe: (events) =>
          events.subscribe(counted, 'gated', async () => {
            await gate;
          }),
      },
    );
    cleanups.push(() => t.stop());
    cleanups.push(async () => release());
    const metric = async (line: RegExp) => {
      const auth = { authorization: 'Bearer outbox-lag-scraper' };
      const text = await (await fetch(`${t.url}/metrics`, { headers: auth })).text();
      const m = line.exec(text);
      return m ? Number(m[1]) : undefined;
    };
    await waitFor('the relay', () => t.app.events.leading);
    for (let n = 0; n < 3; n++) {
      await t.app.database.db
        .transaction()
        .execute((tx) => t.app.events.emit(tx, counted.create({ aggregateId: 'a', payload: { n } })));
    }
    // The first batch waits at the gate inside its transaction; the three events are pending.
    await sleep(200);
    assert.equal(await metric(/^outbox_subscriber_pending_events\{subscriber="gated"\} (\S+)$/m), 3);
    assert.equal(await metric(/^outbox_pending_events (\S+)$/m), 3);
    assert.ok((await metric(/^outbox_lag_seconds (\S+)$/m))! > 0);
    release();
    await waitFor('no lag', async () => (await metric(/^outbox_pending_events (\S+)$/m)) === 0);
    assert.equal(await metric(/^outbox_lag_seconds (\S+)$/m), 0);
  });
});
