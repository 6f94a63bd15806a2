-- Transactional outbox: domain events written in the transaction of the change they describe, relayed
-- to in-process subscribers and to NATS JetStream. Written only by src/platform/events.

-- Ids and positions are handed out when a row is inserted, not when its transaction commits, so a reader
-- keeping "the last position seen" would skip a row whose transaction commits late. Rows are therefore
-- read in (order_txid, position) order, and only those whose order_txid is below the oldest transaction
-- still running: every transaction that could still add a row before that point has then ended.
-- order_txid is the writing transaction's id, raised to the order_txid of the aggregate's latest event
-- when that one is higher, so an aggregate's events keep the order in which they were written even when
-- a transaction that began earlier writes after one that began later.
create table outbox_events (
  order_txid bigint not null,
  position bigint generated always as identity,
  id uuid not null,
  type text not null,
  aggregate_type text not null,
  aggregate_id text not null,
  payload jsonb not null,
  occurred_at timestamptz not null default now(),
  request_id text,
  -- Serves the relay's reads after a subscriber's cursor, the lag gauges and the pruning scan.
  primary key (order_txid, position)
);
-- Serves emit's look-up of an aggregate's latest order_txid.
create index outbox_events_aggregate_idx on outbox_events (aggregate_type, aggregate_id, order_txid);

-- One row per named subscriber (the NATS relay is one too): how far it has been delivered.
create table outbox_subscriptions (
  -- Its index serves the relay's look-up of one subscription's cursor and the cursor's update.
  name text primary key,
  -- The event types it takes, as a LIKE pattern (`video.%`), so lag counts only what it will receive.
  pattern text not null,
  -- Everything at or before (cursor_txid, cursor_position) was delivered; (x, 0) means every event with
  -- order_txid below x.
  cursor_txid bigint not null default 0,
  cursor_position bigint not null default 0,
  -- Last time a relay served it; one unseen for the retention period is forgotten.
  seen_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- While events flow the relay polls on its own, and says so here; emit sends its NOTIFY wake-up only when
-- the relay is not polling, because a NOTIFY makes committing transactions take turns (no group commit).
create table outbox_relay (
  -- One row; its index only keeps it one.
  singleton boolean primary key default true check (singleton),
  -- The relay polls at least until then.
  awake_until timestamptz not null default '-infinity'
);
insert into outbox_relay default values;
