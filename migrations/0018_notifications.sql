-- Community: notifications, each user's settings, and Web Push subscriptions. Written only by
-- src/modules/notifications.
create table notifications (
  -- Ordered ids: lists page by id, and live streams ask for ids after the last they sent.
  id bigint generated always as identity primary key,
  user_id uuid not null references users (id) on delete cascade,
  type text not null check (type in ('follow', 'subscribe', 'like', 'comment', 'reply', 'mention',
    'new_video', 'system')),
  actor_id uuid references users (id) on delete set null,
  video_id uuid references videos (id) on delete cascade,
  comment_id uuid,
  channel_id uuid,
  -- What the list shows without reading other tables (titles, names), fixed when it was made.
  data jsonb not null default '{}',
  -- The event (or system message) it came from: one notification per user per source, whatever retries.
  source_id text not null,
  read_at timestamptz,
  created_at timestamptz not null default now()
);
create unique index notifications_source_key on notifications (user_id, source_id);
create index notifications_user_idx on notifications (user_id, id desc);
create index notifications_unread_idx on notifications (user_id, id desc) where read_at is null;
create index notifications_read_at_idx on notifications (read_at) where read_at is not null;

-- Which types a user receives, per channel ('in_app' = the list and the live stream, 'push' = Web Push).
-- No row: the defaults (in_app on, push on for new_video, mention, reply and system).
create table notification_settings (
  user_id uuid not null references users (id) on delete cascade,
  type text not null,
  in_app boolean not null,
  push boolean not null,
  primary key (user_id, type)
);

-- Browsers' push subscriptions (RFC 8030 endpoint, RFC 8291 keys).
create table push_subscriptions (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  endpoint text not null unique,
  p256dh text not null,
  auth text not null,
  created_at timestamptz not null default now(),
  last_success_at timestamptz,
  failures integer not null default 0
);
create index push_subscriptions_user_idx on push_subscriptions (user_id);
