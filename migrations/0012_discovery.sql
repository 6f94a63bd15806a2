-- Discovery: tags, viewers' tag preferences, and the indexes search reads on the videos table.

create extension if not exists pg_trgm;

-- Tags an administrator curates. A video carries tag slugs (videos.tags); a tag's slug is what matches.
-- Written only by src/modules/discovery.
create table tags (
  id uuid primary key,
  name text not null,
  slug text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index tags_slug_key on tags (slug);
create unique index tags_name_key on tags (lower(name));

-- The tags a viewer picked (at most 5): a signed-in user's, or a guest's under the opaque session id
-- the client keeps. Written only by src/modules/discovery.
create table tag_preferences (
  user_id uuid references users (id) on delete cascade,
  session_id text check (length(session_id) between 16 and 128),
  tag_id uuid not null references tags (id) on delete cascade,
  created_at timestamptz not null default now(),
  check ((user_id is null) <> (session_id is null))
);
create unique index tag_preferences_user_key on tag_preferences (user_id, tag_id) where user_id is not null;
create unique index tag_preferences_session_key on tag_preferences (session_id, tag_id)
  where session_id is not null;
-- Guests' choices are kept by age (a later sweep may drop old ones).
create index tag_preferences_guest_age_idx on tag_preferences (created_at) where session_id is not null;

-- Full text over title (weight A), tags (B) and description (C). The 'simple' configuration neither
-- stems nor drops words, so every language is matched word for word; trigram indexes below find parts
-- of words and Chinese/Japanese titles, which have no spaces to split on.
create function discovery_search_vector(title text, description text, tags text[]) returns tsvector
  language sql immutable parallel safe
  as $$
    select setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
      || setweight(to_tsvector('simple'::regconfig, coalesce(array_to_string(tags, ' '), '')), 'B')
      || setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'C')
  $$;

-- Stored, so ranking reads it instead of parsing every matching row again. The videos module never
-- writes it (PostgreSQL keeps it in step with title, description and tags).
alter table videos add column search_vector tsvector
  generated always as (discovery_search_vector(title, description, tags)) stored;

-- The GIN indexes are read far more than videos are written: without fastupdate, a new entry goes
-- straight into the index instead of a pending list that every search would scan until the next vacuum
-- (on 100k videos just inserted, that list made a search six times slower).
create index videos_search_idx on videos using gin (search_vector) with (fastupdate = off);
-- ILIKE '%…%' and word similarity on titles (any script, any part of a word).
create index videos_title_trgm_idx on videos using gin (title gin_trgm_ops) with (fastupdate = off);
-- Recommendations: videos having any of some tags (tags && array[…]).
create index videos_tags_idx on videos using gin (tags) with (fastupdate = off);
-- Duration filters (seconds, from what the probe found).
create index videos_duration_idx on videos (((media_info ->> 'durationS')::float8));
-- Newest first among listed videos (search without words, the random fallback's pool).
create index videos_listed_created_idx on videos (created_at desc, id desc)
  where publication = 'published' and not hidden and visibility = 'public';
