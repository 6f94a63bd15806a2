-- Room held by one-request uploads while their file streams in, before they become videos: counted in
-- the uploader's quota and unfinished uploads, so that two such uploads cannot both take the same room.
-- A reservation past expires_at (its request died with its node) counts no more. Written only by
-- src/modules/uploads.
create table upload_reservations (
  id uuid primary key,
  owner_id uuid not null references users (id) on delete cascade,
  bytes bigint not null check (bytes >= 0),
  expires_at timestamptz not null
);
create index upload_reservations_owner_id_idx on upload_reservations (owner_id, expires_at);

-- Finds videos left uploading past the upload expiry (the expiry job), without reading every video.
create index videos_uploading_created_at_idx on videos (created_at) where status = 'uploading';
