-- Feeds: each followed account's listable videos, newest first, without reading the others. The predicate
-- is listable()'s (videos/listing.ts) but for the owner's status, which the query checks per row; keep the
-- two in step. Read by src/modules/feeds; the videos table stays written only by src/modules/videos.
create index videos_listed_owner_idx on videos (owner_id, published_at desc, id desc)
  where publication = 'published' and not hidden and visibility = 'public' and playback_version is not null;
