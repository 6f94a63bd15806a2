-- Views: per day for the creator dashboard, and the marks that count a viewer once per video per 24 h
-- on every node and across restarts. Written only by src/modules/views, in batches (one statement per
-- table per flush).

-- Views per video per day (UTC), member and non-member. The primary key serves the dashboard's
-- "my videos over a range of days" (video_id = any(…) and day between …).
create table video_views_daily (
  video_id uuid not null references videos (id) on delete cascade,
  day date not null,
  member bigint not null default 0,
  non_member bigint not null default 0,
  primary key (video_id, day)
);

-- When a viewer was last counted for a video. `viewer_key` is an HMAC of the viewer (user id, the
-- anonymous session id, or address + user agent), never the value itself. A view counts when its row is
-- inserted, or updated because the last count is 24 h old or more.
create table video_view_marks (
  video_id uuid not null references videos (id) on delete cascade,
  viewer_key bytea not null,
  counted_at timestamptz not null,
  primary key (video_id, viewer_key)
);
-- The hourly sweep of marks older than a day.
create index video_view_marks_counted_idx on video_view_marks (counted_at);
