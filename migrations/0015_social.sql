-- Community, social graph: who follows whom, and each user's follower counts. Written only by
-- src/modules/social. Channel subscriptions are channel_memberships rows (tier 1, channels module).
create table follows (
  follower_id uuid not null references users (id) on delete cascade,
  followee_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (follower_id, followee_id),
  check (follower_id <> followee_id)
);
-- Serves a user's followers, newest first; the primary key serves "following" and is-following.
create index follows_followee_idx on follows (followee_id, created_at desc, follower_id);
create index follows_follower_created_idx on follows (follower_id, created_at desc, followee_id);

-- Exact counters, changed in the transaction that adds or removes a follows row.
create table user_follow_counts (
  user_id uuid primary key references users (id) on delete cascade,
  followers bigint not null default 0 check (followers >= 0),
  following bigint not null default 0 check (following >= 0)
);
