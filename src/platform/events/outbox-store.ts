// SQL of the outbox (migrations/0006_outbox.sql): writing events, reading them after a cursor, the
// subscriptions' progress, pruning and lag.
import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import type { DeliveredEvent, NewEvent } from './event.ts';

/** The LISTEN/NOTIFY channel a commit with events wakes the relay on; the payload is the event type. */
export const OUTBOX_CHANNEL = 'vireo_outbox';

/** Events after a cursor are counted up to this many, so a scrape stays cheap behind a large backlog. */
export const LAG_SCAN_LIMIT = 100_000;

/** A place in the outbox's delivery order. */
export interface Cursor {
  txid: number;
  position: number;
}

export interface StoredEvent extends DeliveredEvent {
  cursor: Cursor;
}

export function after(a: Cursor, b: Cursor): boolean {
  return a.txid > b.txid || (a.txid === b.txid && a.position > b.position);
}

// Below the horizon, every transaction that could write an event has ended, committed or not. The
// snapshot's xmin would do, but it counts the transactions of every database on the server: a long one
// elsewhere would hold our events back. So: the oldest transaction still running in this database
// (taken from the snapshot's in-progress list, matched on the sessions of this database), else the
// snapshot's xmax. Sessions whose transaction this role may not see (another role, without
// pg_read_all_stats) and prepared transactions bring back the server-wide xmin.
const HORIZON = sql`(
  with s as materialized (select pg_current_snapshot() as snap),
  here as materialized (
    select a.backend_xid,
      coalesce(pg_has_role(a.usesysid, 'USAGE') or pg_has_role('pg_read_all_stats', 'USAGE'), false) as seen
    from pg_stat_activity a
    where a.datname = current_database() and a.pid <> pg_backend_pid()
      and a.backend_type <> 'autovacuum worker')
  select case
    when exists (select 1 from here where not seen)
      or exists (select 1 from pg_prepared_xacts where database = current_database())
    then pg_snapshot_xmin(s.snap)::text::bigint
    else least(
      pg_snapshot_xmax(s.snap)::text::bigint,
      (select min(x::text::bigint) from pg_snapshot_xip(s.snap) x
        where x::text::bigint % 4294967296 in (
          select backend_xid::text::bigint from here where backend_xid is not null)))
    end
  from s)`;

export async function insertEvent(db: DbOrTx, event: NewEvent): Promise<void> {
  // The wake-up rides along, unless the relay polls now: NOTIFY is sent only at commit, and equal
  // payloads of one transaction are sent once. pg_current_xact_id() is the top-level transaction's id,
  // also inside a savepoint.
  await sql`
    with written as (
      insert into outbox_events
        (order_txid, id, type, aggregate_type, aggregate_id, payload, occurred_at, request_id)
      values (
        greatest(
          pg_current_xact_id()::text::bigint,
          (select order_txid from outbox_events
            where aggregate_type = ${event.aggregate.type} and aggregate_id = ${event.aggregate.id}
            order by order_txid desc limit 1)),
        ${event.id}, ${event.type}, ${event.aggregate.type}, ${event.aggregate.id},
        ${JSON.stringify(event.payload)}::jsonb, coalesce(${event.occurredAt ?? null}::timestamptz, now()),
        ${event.requestId ?? null})
      returning type)
    select pg_notify(${OUTBOX_CHANNEL}, type) from written
    where not exists (select 1 from outbox_relay where awake_until > clock_timestamp())`.execute(db);
}

interface EventRow {
  order_txid: number;
  position: number;
  id: string;
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: unknown;
  occurred_at: Date;
  request_id: string | null;
}

export interface Batch {
  /** The subscription's cursor the batch was read after. */
  cursor: Cursor;
  events: StoredEvent[];
  /** Every event with an order_txid below this one is visible for good. */
  horizon: number;
  /** Committed events (of any type) past the horizon wait for an older transaction still running. */
  held: boolean;
}

/** The next events after a subscription's cursor whose type is LIKE its pattern, in delivery order. */
export async function readBatch(db: DbOrTx, name: string, limit: number): Promise<Batch> {
  // Two statements, so the read below is planned for the actual cursor and horizon: planned blind, it
  // could sort a whole backlog to return its first rows. max() always walks the index from its end.
  const { rows: found } = await sql<{
    cursor_txid: number;
    cursor_position: number;
    pattern: string;
    horizon: number;
    held: boolean | null;
  }>`
    select s.cursor_txid, s.cursor_position, s.pattern, x.horizon,
      (select max(order_txid) from outbox_events) >= x.horizon as held
    from outbox_subscriptions s, (select ${HORIZON} as horizon) x
    where s.name = ${name}`.execute(db);
  const sub = found[0];
  if (!sub) throw new Error(`outbox subscription "${name}" is not registered`);
  const { rows } = await sql<EventRow>`
    select order_txid, position, id::text, type, aggregate_type, aggregate_id, payload, occurred_at, request_id
    from outbox_events
    where (order_txid, position) > (${sub.cursor_txid}, ${sub.cursor_position})
      and order_txid < ${sub.horizon}
      and type like ${sub.pattern}
    order by order_txid, position
    limit ${limit}`.execute(db);
  return {
    cursor: { txid: sub.cursor_txid, position: sub.cursor_position },
    horizon: sub.horizon,
    held: sub.held === true,
    events: rows.map((r) => ({
      cursor: { txid: r.order_txid, position: r.position },
      id: r.id,
      type: r.type,
      aggregate: { type: r.aggregate_type, id: r.aggregate_id },
      payload: r.payload,
      occurredAt: r.occurred_at,
      requestId: r.request_id ?? undefined,
    })),
  };
}

/** Where the outbox ends: its last row by (order_txid, position); null when it is empty. */
export async function readHead(db: DbOrTx): Promise<Cursor | null> {
  const { rows } = await sql<{ order_txid: number; position: number }>`
    select order_txid, position from outbox_events order by order_txid desc, position desc limit 1`.execute(
    db,
  );
  return rows[0] ? { txid: rows[0].order_txid, position: rows[0].position } : null;
}

/** The types of the events after `after`, and the new end: what the relay's watcher looks at while awake. */
export async function readNewTypes(db: DbOrTx, after: Cursor): Promise<{ types: string[]; head: Cursor }> {
  const { rows } = await sql<{ type: string; order_txid: number; position: number }>`
    select type, order_txid, position from outbox_events
    where (order_txid, position) > (${after.txid}, ${after.position})
    order by order_txid, position`.execute(db);
  const last = rows.at(-1);
  return {
    types: [...new Set(rows.map((r) => r.type))],
    head: last ? { txid: last.order_txid, position: last.position } : after,
  };
}

/** Adds a subscription, or takes an existing one over with its progress; marks it seen. */
export async function registerSubscription(
  db: DbOrTx,
  name: string,
  pattern: string,
  from: 'oldest' | 'latest',
): Promise<void> {
  await sql`
    insert into outbox_subscriptions (name, pattern, cursor_txid)
    values (${name}, ${pattern}, ${from === 'latest' ? HORIZON : sql`0`})
    on conflict (name) do update set pattern = excluded.pattern, seen_at = now()`.execute(db);
}

/**
 * Moves a subscription's cursor from `from` to `to`; answers false, moving nothing, when it is no longer
 * at `from` (another relay moved it). Also lets the transaction commit without waiting for the disk:
 * a commit lost in a database crash loses the handler's effects and the cursor together, and the batch
 * is delivered again.
 */
export async function saveCursor(db: DbOrTx, name: string, from: Cursor, to: Cursor): Promise<boolean> {
  const { rows } = await sql`
    update outbox_subscriptions
    set cursor_txid = ${to.txid}, cursor_position = ${to.position}, updated_at = now()
    where name = ${name} and cursor_txid = ${from.txid} and cursor_position = ${from.position}
    returning set_config('synchronous_commit', 'off', true)`.execute(db);
  return rows.length === 1;
}

/** Tells emitters the relay polls for `ms` from now, so they need not wake it. */
export async function markAwake(db: DbOrTx, ms: number): Promise<void> {
  await sql`update outbox_relay set awake_until = clock_timestamp() + make_interval(secs => ${ms / 1000})`.execute(
    db,
  );
}

/** Tells emitters to wake the relay again. */
export async function markAsleep(db: DbOrTx): Promise<void> {
  await sql`update outbox_relay set awake_until = '-infinity'`.execute(db);
}

/**
 * Forgets subscriptions, other than `serving`, no relay served for `retentionSeconds`, then deletes events
 * older than that which every remaining subscription has received. Answers how many events went.
 */
export async function prune(
  db: DbOrTx,
  retentionSeconds: number,
  serving: string[],
  batch = 10_000,
): Promise<number> {
  await sql`update outbox_subscriptions set seen_at = now() where name = any(${serving})`.execute(db);
  await sql`
    delete from outbox_subscriptions
    where seen_at < now() - make_interval(secs => ${retentionSeconds}) and not name = any(${serving})`.execute(
    db,
  );
  let total = 0;
  for (;;) {
    // Small batches: no long transaction holds back the relay's horizon.
    const result = await sql`
      delete from outbox_events where (order_txid, position) in (
        select e.order_txid, e.position from outbox_events e
        where e.occurred_at < now() - make_interval(secs => ${retentionSeconds})
          and not exists (
            select 1 from outbox_subscriptions s
            where (e.order_txid, e.position) > (s.cursor_txid, s.cursor_position) and e.type like s.pattern)
        limit ${batch})`.execute(db);
    const n = Number(result.numAffectedRows ?? 0);
    total += n;
    if (n < batch) return total;
  }
}

export interface SubscriberLag {
  name: string;
  /** Events it has not received yet (counted up to LAG_SCAN_LIMIT). */
  pending: number;
  /** Age of the oldest of them; 0 when none. */
  oldestSeconds: number;
}

export interface OutboxLag {
  /** Events some subscriber has not received yet (counted up to LAG_SCAN_LIMIT). */
  pending: number;
  /** Age of the oldest event some subscriber has not received yet; 0 when none. */
  oldestSeconds: number;
  subscribers: SubscriberLag[];
}

export async function readLag(db: DbOrTx): Promise<OutboxLag> {
  const perSubscriber = await sql<{ name: string; pending: number; oldest_seconds: number | null }>`
    select s.name, p.pending, p.oldest_seconds
    from outbox_subscriptions s
    cross join lateral (
      select count(*)::int as pending,
        extract(epoch from now() - min(x.occurred_at))::float8 as oldest_seconds
      from (
        select e.type, e.occurred_at from outbox_events e
        where (e.order_txid, e.position) > (s.cursor_txid, s.cursor_position)
        order by e.order_txid, e.position
        limit ${LAG_SCAN_LIMIT}
      ) x
      where x.type like s.pattern
    ) p
    order by s.name`.execute(db);
  const total = await sql<{ pending: number; oldest_seconds: number | null }>`
    select count(*)::int as pending, extract(epoch from now() - min(x.occurred_at))::float8 as oldest_seconds
    from (
      select e.order_txid, e.position, e.type, e.occurred_at from outbox_events e
      where (e.order_txid, e.position) > (
        select cursor_txid, cursor_position from outbox_subscriptions
        order by cursor_txid, cursor_position limit 1)
      order by e.order_txid, e.position
      limit ${LAG_SCAN_LIMIT}
    ) x
    where exists (
      select 1 from outbox_subscriptions s
      where (x.order_txid, x.position) > (s.cursor_txid, s.cursor_position) and x.type like s.pattern)`.execute(
    db,
  );
  const t = total.rows[0];
  return {
    pending: t?.pending ?? 0,
    oldestSeconds: Math.max(0, t?.oldest_seconds ?? 0),
    subscribers: perSubscriber.rows.map((r) => ({
      name: r.name,
      pending: r.pending,
      oldestSeconds: Math.max(0, r.oldest_seconds ?? 0),
    })),
  };
}
