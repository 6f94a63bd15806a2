-- Community: collections of videos (src/modules/collections) and each viewer's state per video
-- (src/modules/viewing).

-- Collections (playlists). Written only by src/modules/collections. Every user has one 'watch_later'.
create table collections (
  id uuid primary key,
  owner_id uuid not null references users (id) on delete cascade,
  kind text not null default 'playlist' check (kind in ('playlist', 'watch_later')),
  name text not null,
  description text not null default '',
  visibility text not null default 'private' check (visibility in ('public', 'private')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Serves a user's collections, newest first (all of mine, or another's public ones), and their count.
-- No stored item count: deleting a video removes its items by cascade, which no counter would hear;
-- lists count the items (an index-only scan of collection_items_order_idx, at most 5000 rows).
create index collections_owner_idx on collections (owner_id, created_at desc, id desc);
create unique index collections_watch_later_key on collections (owner_id) where kind = 'watch_later';

-- Ordered items: `position` orders them (gaps allowed, so a move rewrites one row).
create table collection_items (
  collection_id uuid not null references collections (id) on delete cascade,
  video_id uuid not null references videos (id) on delete cascade,
  position double precision not null,
  added_at timestamptz not null default now(),
  primary key (collection_id, video_id)
);
-- Serves a collection's items in order (keyset on position, video_id) and its item count.
create index collection_items_order_idx on collection_items (collection_id, position, video_id);
-- Serves "is this video in any of the owner's collections" (the bookmark after each change).
create index collection_items_video_idx on collection_items (video_id);

-- A projection per viewer and video, updated idempotently from like and collection events, and by the
-- viewer's progress reports. Written only by src/modules/viewing.
create table viewer_states (
  user_id uuid not null references users (id) on delete cascade,
  video_id uuid not null references videos (id) on delete cascade,
  liked boolean not null default false,
  bookmarked boolean not null default false,
  progress_s real,
  duration_s real,
  completed boolean not null default false,
  watched_at timestamptz,
  -- The time of the last like or bookmark event applied; an older event changes nothing.
  liked_at timestamptz,
  bookmarked_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (user_id, video_id)
);
-- Serves "continue watching" and what a viewer watched, newest first.
create index viewer_states_watched_idx on viewer_states (user_id, watched_at desc, video_id desc)
  where watched_at is not null;
create index viewer_states_liked_idx on viewer_states (user_id) where liked;
