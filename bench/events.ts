// The outbox: events/s from commit to an in-process subscriber when emitting as fast as possible from
// several connections, and the commit → subscriber lag under a steady 1000 events/s; the same through
// NATS JetStream (commit → a JetStream consumer) when a server answers on NATS_URL (127.0.0.1:4222).
// Baselines from the same run: the same transactions inserting a row into a bare table, and a bare
// LISTEN/NOTIFY round trip at the same steady rate.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sql } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import { createDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrator.ts';
import { createEventBus, type EventBus } from '../src/platform/events/bus.ts';
import { emit } from '../src/platform/events/emit.ts';
import { defineEvent } from '../src/platform/events/event.ts';
import { outboxLag } from '../src/platform/events/lag.ts';
import type { Benchmark, Metrics } from './lib/report.ts';
import { openScene } from './lib/scene.ts';

const EMITTERS = 8;
const BURST_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 10);
const STEADY_RATE = 1000;
const AGGREGATES = 64;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

const measured = defineEvent({
  type: 'bench.measured',
  payload: z.object({ n: z.number().int(), at: z.string() }),
});

const now = () => performance.now();

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Receive times by event id, and a way to wait until some number have arrived. */
class Arrivals {
  readonly at = new Map<string, number>();
  private waiter?: { count: number; resolve: () => void };

  add(id: string): void {
    if (!this.at.has(id)) this.at.set(id, now());
    if (this.waiter && this.at.size >= this.waiter.count) this.waiter.resolve();
  }

  until(count: number, timeoutMs = 60_000): Promise<void> {
    if (this.at.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.at.size} of ${count} events arrived`)),
        timeoutMs,
      );
      this.waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }
}

/** One event per transaction, as a module's change would. Answers its id once committed. */
function emitOne(database: Database, n: number): Promise<string> {
  return database.db
    .transaction()
    .execute((tx) =>
      emit(
        tx,
        measured.create({ aggregateId: `a${n % AGGREGATES}`, payload: { n, at: new Date().toISOString() } }),
      ),
    );
}

/** `work` from EMITTERS connections as fast as they go for `seconds`; answers how many were done. */
async function burst(seconds: number, work: (n: number) => Promise<unknown>): Promise<number> {
  const end = now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: EMITTERS }, async () => {
      while (now() < end) await work(n++);
    }),
  );
  return n;
}

/** `work` started at a steady rate for `seconds`, in ticks of 10 ms; answers commit times by result. */
async function steady(seconds: number, work: (n: number) => Promise<string>): Promise<Map<string, number>> {
  const committed = new Map<string, number>();
  const pending: Promise<void>[] = [];
  const perTick = STEADY_RATE / 100;
  const start = now();
  let n = 0;
  for (let tick = 0; tick < seconds * 100; tick++) {
    const due = start + tick * 10;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let i = 0; i < perTick; i++) {
      pending.push(work(n++).then((id) => void committed.set(id, now())));
    }
  }
  await Promise.all(pending);
  return committed;
}

function lags(committed: Map<string, number>, arrivals: Arrivals): number[] {
  // Clamped: the relay's answer may be handled in the same turn as the commit's, just before it.
  return [...committed].map(([id, at]) => Math.max(0, arrivals.at.get(id)! - at));
}

async function migrated(url: string, scene: { logger: Parameters<typeof migrate>[1] }): Promise<Database> {
  const database = createDatabase(url, EMITTERS + 6);
  await migrate(database.pool, scene.logger);
  return database;
}

/** What may hold the relay back, for the message of a run that timed out. */
async function diagnose(database: Database): Promise<string> {
  const lag = await outboxLag(database.db);
  const { rows } = await sql<{ datname: string; state: string; age: string; query: string }>`
    select datname, state, (now() - xact_start)::text as age, left(query, 60) as query
    from pg_stat_activity where backend_xid is not null order by xact_start limit 3`.execute(database.db);
  const sessions = await sql<{ state: string; wait: string; query: string; age: string }>`
    select state, concat(wait_event_type, ':', wait_event) as wait, left(query, 70) as query,
      (now() - state_change)::text as age
    from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(
    database.db,
  );
  const x = await sql<{ x: string }>`select pg_current_snapshot()::text as x`.execute(database.db);
  const maxk = await sql<{
    k: string;
  }>`select max(order_txid)::text as k, min(order_txid)::text as m from outbox_events`.execute(database.db);
  const subs = await sql`select * from outbox_subscriptions`.execute(database.db);
  return `lag ${JSON.stringify(lag)}; oldest writing transactions ${JSON.stringify(rows)}; sessions ${JSON.stringify(sessions.rows)}; snapshot ${x.rows[0]!.x}; keys ${JSON.stringify(maxk.rows)}; subs ${JSON.stringify(subs.rows)}`;
}

async function natsAnswers(): Promise<NatsConnection | undefined> {
  try {
    return await connect({ servers: NATS_URL, timeout: 1500 });
  } catch {
    return undefined;
  }
}

async function run(progress: (line: string) => void): Promise<Metrics> {
  const scene = await openScene(progress, 'vireo-bench-events-');
  try {
    const database = await migrated(scene.databaseUrl, scene);
    scene.defer(() => database.close());
    const metrics: Metrics = {};

    // Baseline: the same transactions, inserting into a table with no index, no trigger, no relay.
    await sql`create table bench_plain (id uuid primary key, payload jsonb not null)`.execute(database.db);
    let started = now();
    const plain = await burst(BURST_SECONDS, (n) =>
      database.db
        .transaction()
        .execute((tx) =>
          sql`insert into bench_plain values (gen_random_uuid(), ${JSON.stringify({ n })}::jsonb)`.execute(
            tx,
          ),
        ),
    );
    const plainPerS = plain / ((now() - started) / 1000);
    progress(`bare insert: ${plain} transactions, ${plainPerS.toFixed(0)}/s`);

    // Baseline: LISTEN/NOTIFY round trip, commit → listener, at the steady rate.
    const listener = new pg.Client({ connectionString: scene.databaseUrl });
    await listener.connect();
    scene.defer(() => listener.end());
    const heard = new Arrivals();
    listener.on('notification', (m) => heard.add(m.payload!));
    await listener.query('listen bench_roundtrip');
    const notified = await steady(5, (n) =>
      database.db.transaction().execute(async (tx) => {
        const id = `${n}`;
        await sql`select pg_notify('bench_roundtrip', ${id})`.execute(tx);
        return id;
      }),
    );
    await heard.until(notified.size);
    const notifyLags = lags(notified, heard);
    progress(
      `LISTEN/NOTIFY at ${STEADY_RATE}/s: p50 ${percentile(notifyLags, 50).toFixed(2)} ms, p99 ${percentile(notifyLags, 99).toFixed(2)} ms`,
    );

    // The outbox to an in-process subscriber.
    const received = new Arrivals();
    const bus: EventBus = createEventBus({
      db: database.db,
      databaseUrl: scene.databaseUrl,
      logger: scene.logger,
    });
    bus.subscribe(measured, 'bench', (e) => received.add(e.id));
    await bus.start();
    scene.defer(() => bus.stop());

    started = now();
    const emitted = await burst(BURST_SECONDS, (n) => emitOne(database, n));
    await received.until(emitted);
    const lastArrival = Math.max(...received.at.values());
    const perS = emitted / ((lastArrival - started) / 1000);
    progress(`outbox burst: ${emitted} events, ${perS.toFixed(0)}/s commit → subscriber`);

    const before = received.at.size;
    const committed = await steady(STEADY_SECONDS, (n) => emitOne(database, n));
    await received.until(before + committed.size).catch(async (err) => {
      throw new Error(`${err.message}; leading ${bus.leading}; ${await diagnose(database)}`);
    });
    const outboxLags = lags(committed, received);
    progress(
      `outbox at ${STEADY_RATE}/s: p50 ${percentile(outboxLags, 50).toFixed(2)} ms, p99 ${percentile(outboxLags, 99).toFixed(2)} ms`,
    );

    Object.assign(metrics, {
      bare_insert_per_s: { value: plainPerS, unit: 'tx/s' },
      outbox_throughput_events_per_s: { value: perS, unit: 'events/s' },
      outbox_throughput_vs_bare_insert_ratio: { value: perS / plainPerS, unit: 'x' },
      notify_roundtrip_p99_ms: { value: percentile(notifyLags, 99), unit: 'ms' },
      outbox_lag_p50_ms: { value: percentile(outboxLags, 50), unit: 'ms' },
      outbox_lag_p99_ms: { value: percentile(outboxLags, 99), unit: 'ms', target: '<= 100' },
      outbox_lag_p99_vs_notify_ratio: {
        value: percentile(outboxLags, 99) / percentile(notifyLags, 99),
        unit: 'x',
      },
    } satisfies Metrics);

    // The outbox to NATS JetStream, on a database of its own (the relay starts from the oldest event).
    const nc = await natsAnswers();
    if (!nc) {
      progress(`no NATS server answers on ${NATS_URL}: the _nats metrics are left out`);
      return metrics;
    }
    scene.defer(() => nc.close());
    const natsUrl = await scene.database('vireo_bench_nats');
    const natsDatabase = await migrated(natsUrl, scene);
    scene.defer(() => natsDatabase.close());
    const run = randomBytes(4).toString('hex');
    const stream = `VIREO_BENCH_${run}`;
    const prefix = `bench${run}`;
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.bench.>`] });
    scene.defer(() => jsm.streams.delete(stream));
    const consumed = new Arrivals();
    const consumer = await jetstream(nc).consumers.get(stream);
    const messages = await consumer.consume({ max_messages: 1000 });
    scene.defer(async () => messages.stop());
    void (async () => {
      for await (const m of messages) consumed.add(m.json<{ id: string }>().id);
    })();

    const natsBus = createEventBus({
      db: natsDatabase.db,
      databaseUrl: natsUrl,
      logger: scene.logger,
      nats: { url: NATS_URL, stream, subjectPrefix: prefix },
    });
    await natsBus.start();
    scene.defer(() => natsBus.stop());

    started = now();
    const natsEmitted = await burst(BURST_SECONDS, (n) => emitOne(natsDatabase, n));
    await consumed.until(natsEmitted);
    const natsPerS = natsEmitted / ((Math.max(...consumed.at.values()) - started) / 1000);
    progress(`NATS burst: ${natsEmitted} events, ${natsPerS.toFixed(0)}/s commit → JetStream consumer`);

    const natsBefore = consumed.at.size;
    const natsCommitted = await steady(STEADY_SECONDS, (n) => emitOne(natsDatabase, n));
    await consumed.until(natsBefore + natsCommitted.size);
    const natsLags = lags(natsCommitted, consumed);
    progress(
      `NATS at ${STEADY_RATE}/s: p50 ${percentile(natsLags, 50).toFixed(2)} ms, p99 ${percentile(natsLags, 99).toFixed(2)} ms`,
    );
    Object.assign(metrics, {
      outbox_throughput_events_per_s_nats: { value: natsPerS, unit: 'events/s' },
      outbox_lag_p50_ms_nats: { value: percentile(natsLags, 50), unit: 'ms' },
      outbox_lag_p99_ms_nats: { value: percentile(natsLags, 99), unit: 'ms', target: '<= 100' },
    } satisfies Metrics);
    return metrics;
  } finally {
    await scene.close();
  }
}

export default {
  description: `outbox events/s commit → in-process subscriber (${EMITTERS} connections, ${BURST_SECONDS} s) and commit → subscriber lag at ${STEADY_RATE} events/s (${STEADY_SECONDS} s), also through NATS JetStream; against bare inserts and a bare LISTEN/NOTIFY round trip`,
  run,
} satisfies Benchmark;
