-- The catalog's videos. Written only by src/modules/videos.
create table videos (
  id uuid primary key,
  owner_id uuid not null references users (id) on delete cascade,
  title text not null,
  description text not null default '',
  status text not null default 'uploading'
    check (status in ('uploading', 'uploaded', 'processing', 'playable', 'ready', 'failed')),
  visibility text not null default 'public' check (visibility in ('public', 'unlisted', 'private')),
  source_filename text,
  source_size bigint,
  -- Where the finished upload waits for processing (an upload store key).
  source_key text,
  media_info jsonb,
  renditions jsonb,
  -- Outputs of processing run N live under videos/<id>/<N>/, so a re-run never overwrites cached files.
  media_version integer not null default 0,
  processing_stage text,
  processing_percent integer not null default 0,
  failure_code text,
  failure_message text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  ready_at timestamptz
);
-- Serves a creator's own list, newest first.
create index videos_owner_id_idx on videos (owner_id, id desc);
