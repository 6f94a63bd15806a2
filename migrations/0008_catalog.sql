-- The catalog: channels, the memberships that access tiers read, and what a video carries beyond its
-- media (metadata, publication, moderation, access tier).

-- Channels. Written only by src/modules/channels. One per user, made with the account.
create table channels (
  id uuid primary key,
  owner_id uuid not null references users (id) on delete cascade,
  handle text not null,
  name text not null,
  description text not null default '',
  -- Object-store keys of the resized images; null until the owner sends one.
  avatar_key text,
  banner_key text,
  -- The premium tier's price per month; 0 means the channel has no premium tier.
  monthly_fee numeric(10, 2) not null default 0 check (monthly_fee >= 0),
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index channels_owner_key on channels (owner_id);
create unique index channels_handle_key on channels (lower(handle));

-- Who belongs to a channel: tier 1 subscribers (free) and tier 2 premium members. Written only by
-- src/modules/channels; community (subscriptions) and money (premium) change it through its service.
create table channel_memberships (
  channel_id uuid not null references channels (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  tier smallint not null check (tier in (1, 2)),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (channel_id, user_id)
);
create index channel_memberships_user_idx on channel_memberships (user_id);

-- Videos: catalog fields. A video's channel is its owner's. The pipeline's `status` stays as it was;
-- publication is a state of its own (src/modules/videos/lifecycle.ts has both machines).
alter table videos
  add column category text check (category in ('music', 'gaming', 'education', 'entertainment',
    'technology', 'sports', 'news', 'food', 'travel', 'lifestyle')),
  add column language text,
  -- Tag slugs (lower case), at most 15.
  add column tags text[] not null default '{}',
  add column access_tier smallint not null default 0 check (access_tier in (0, 1, 2)),
  -- draft: never published; scheduled: publishes once `publish_at` has come and it can be watched;
  -- published; unpublished: taken down by its owner; rejected: taken down by a moderator.
  add column publication text not null default 'draft'
    check (publication in ('draft', 'scheduled', 'published', 'unpublished', 'rejected')),
  add column publish_at timestamptz,
  add column published_at timestamptz,
  add column moderation_reason text,
  -- Hidden by a moderator (reversible); the owner still sees it.
  add column hidden boolean not null default false,
  -- The still shown for the video: a frame chosen by time, or an uploaded image (its object key).
  add column thumbnail_time_s real,
  add column thumbnail_key text,
  -- The processing run whose updates are accepted, and the time of the last one applied: an update of
  -- another run, or older than one already applied, is ignored.
  add column processing_job_id text,
  add column processing_emitted_at timestamptz;

-- Videos made before channels existed keep playing as they did: already published.
update videos set publication = 'published', published_at = coalesce(ready_at, created_at)
  where playback_version is not null;

create index videos_scheduled_idx on videos (publish_at) where publication = 'scheduled';

-- Views per video, member and non-member. Written only by src/modules/views (in batches).
create table video_stats (
  video_id uuid primary key references videos (id) on delete cascade,
  views_member bigint not null default 0,
  views_non_member bigint not null default 0,
  views_total bigint generated always as (views_member + views_non_member) stored,
  updated_at timestamptz not null default now()
);
create index video_stats_views_idx on video_stats (views_total desc);

-- Every administrator action: who, what, when, the object before and after. Written only by
-- src/modules/audit; other modules record through its service, in the transaction of the action.
create table audit_log (
  id uuid primary key,
  actor_id uuid,
  action text not null,
  target_type text not null,
  target_id text not null,
  reason text,
  before jsonb,
  after jsonb,
  created_at timestamptz not null default now()
);
create index audit_log_target_idx on audit_log (target_type, target_id, id desc);
create index audit_log_actor_idx on audit_log (actor_id, id desc);
