-- Community: threaded comments on videos (src/modules/comments) and likes of videos and comments
-- (src/modules/likes). Each table has one writer, named above it.

-- Videos: the owner's switch that turns comments off (written by src/modules/videos).
alter table videos add column comments_enabled boolean not null default true;

-- Comments. Written only by src/modules/comments. A deleted comment with replies stays as a tombstone
-- (body cleared, deleted_at set) so its thread reads on; one without replies is removed.
create table comments (
  id uuid primary key,
  video_id uuid not null references videos (id) on delete cascade,
  author_id uuid not null references users (id) on delete cascade,
  parent_id uuid references comments (id) on delete cascade,
  body text not null,
  -- Users named with @username in the body, resolved when it was written.
  mentions uuid[] not null default '{}',
  reply_count integer not null default 0 check (reply_count >= 0),
  -- Kept by the likes module through CommentsService, in the like's transaction.
  like_count bigint not null default 0 check (like_count >= 0),
  created_at timestamptz not null default now(),
  edited_at timestamptz,
  deleted_at timestamptz
);
create index comments_video_new_idx on comments (video_id, created_at desc, id desc) where parent_id is null;
create index comments_video_top_idx on comments (video_id, like_count desc, id desc) where parent_id is null;
create index comments_replies_idx on comments (parent_id, created_at, id) where parent_id is not null;
create index comments_created_idx on comments (created_at);

-- Comments per video that are not deleted (replies included). Written only by src/modules/comments.
create table video_comment_counts (
  video_id uuid primary key references videos (id) on delete cascade,
  comments bigint not null default 0 check (comments >= 0)
);

-- Likes. Written only by src/modules/likes. target_type 'video' or 'comment'; no foreign key on the
-- target, so the likes module removes a target's likes when the target goes (events).
-- video_id (the video liked, or the comment's video) and target_owner_id (who received the like) are
-- kept with each like: a video's comments go with it by cascade before anyone hears of it, so the
-- video's id is all that finds their likes again, and the owners are whose counts fall.
create table likes (
  target_type text not null check (target_type in ('video', 'comment')),
  target_id uuid not null,
  user_id uuid not null references users (id) on delete cascade,
  video_id uuid not null,
  target_owner_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (target_type, target_id, user_id)
);
create index likes_user_idx on likes (user_id, target_type, created_at desc);
-- Serves the removal of a deleted video's likes (its own and its comments').
create index likes_video_idx on likes (video_id);
create index likes_created_idx on likes (created_at) where target_type = 'video';

-- Exact like counts of videos, changed in the transaction of the like (a comment's is its like_count,
-- which the likes module changes through CommentsService). Written only by src/modules/likes.
create table like_counts (
  target_type text not null check (target_type in ('video', 'comment')),
  target_id uuid not null,
  likes bigint not null default 0 check (likes >= 0),
  primary key (target_type, target_id)
);
-- Likes received by each user on their videos and comments (user stats). Written only by src/modules/likes.
create table user_like_counts (
  user_id uuid primary key references users (id) on delete cascade,
  likes_received bigint not null default 0 check (likes_received >= 0)
);
