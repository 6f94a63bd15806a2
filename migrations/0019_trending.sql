-- Community: trending videos and tags per period, recomputed hourly. Written only by src/modules/trending.
create table trending_videos (
  period text not null check (period in ('daily', 'weekly', 'monthly')),
  video_id uuid not null references videos (id) on delete cascade,
  rank integer not null,
  score double precision not null,
  computed_at timestamptz not null default now(),
  primary key (period, video_id)
);
create index trending_videos_rank_idx on trending_videos (period, rank);

create table trending_tags (
  period text not null check (period in ('daily', 'weekly', 'monthly')),
  tag text not null,
  rank integer not null,
  score double precision not null,
  videos integer not null,
  computed_at timestamptz not null default now(),
  primary key (period, tag)
);
create index trending_tags_rank_idx on trending_tags (period, rank);
