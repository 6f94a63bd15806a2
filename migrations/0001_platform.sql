-- Platform tables: shared secrets and rate-limit counters. Written only by src/platform.

-- Generated secrets (JWT signing key when JWT_SECRET is unset), shared by every node.
create table platform_secrets (
  name text primary key,
  value text not null,
  created_at timestamptz not null default now()
);

-- Fixed-window counters for rate limits, shared by every node.
create table rate_limit_counters (
  key text primary key,
  window_start timestamptz not null,
  hits integer not null
);
-- Serves the periodic sweep of expired windows.
create index rate_limit_counters_window_start_idx on rate_limit_counters (window_start);
