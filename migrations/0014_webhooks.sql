-- Idempotency keys (platform) and outbound webhooks: endpoints, deliveries and their attempts.

-- The first answer to a POST carrying an Idempotency-Key, replayed for repeats. Written only by
-- src/platform/http/idempotency.ts. `scope` is the caller (a user id, or the route for anonymous calls).
create table idempotency_keys (
  scope text not null,
  key text not null,
  -- sha256 of method, path and body: another request under the same key is refused.
  request_hash text not null,
  -- null while the first request still runs.
  status_code integer,
  headers jsonb,
  body text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (scope, key)
);
-- Serves the periodic sweep of expired keys.
create index idempotency_keys_expires_at_idx on idempotency_keys (expires_at);

-- Integrators' endpoints. Written only by src/modules/webhooks. `user` endpoints hear about their
-- owner's videos; `instance` endpoints (made by administrators) about every video.
create table webhook_endpoints (
  id uuid primary key,
  owner_id uuid not null references users (id) on delete cascade,
  scope text not null check (scope in ('user', 'instance')),
  url text not null,
  description text not null default '',
  event_types text[] not null check (cardinality(event_types) > 0),
  enabled boolean not null default true,
  -- The signing secret; the one it replaced still signs too until previous_secret_expires_at.
  secret text not null,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Serves the owner's list and the match of an event's owner against user endpoints.
create index webhook_endpoints_owner_idx on webhook_endpoints (owner_id, id);
-- Serves the match of every event against instance endpoints.
create index webhook_endpoints_instance_idx on webhook_endpoints (id) where scope = 'instance';

-- One event for one endpoint, until delivered or given up.
create table webhook_deliveries (
  id uuid primary key,
  endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
  event_id uuid not null,
  event_type text not null,
  -- The body sent: {id, type, created_at, data}.
  payload jsonb not null,
  status text not null check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  -- Retries stop this long after the event (24 h).
  retry_until timestamptz not null,
  next_attempt_at timestamptz,
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz not null default now()
);
-- An event is delivered once per endpoint, however often the relay hands it over; also the endpoint's
-- delivery log, newest first.
create unique index webhook_deliveries_event_key on webhook_deliveries (endpoint_id, event_id);
create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, id desc);

-- The delivery log: every attempt, automatic or asked for.
create table webhook_attempts (
  id uuid primary key,
  delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
  manual boolean not null default false,
  started_at timestamptz not null,
  duration_ms integer not null,
  -- null when no answer came (refused address, timeout, connection error).
  response_status integer,
  error text,
  -- The first KiB of the answer's body.
  response_snippet text
);
-- Serves the attempts of the deliveries of a log page.
create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, started_at);
