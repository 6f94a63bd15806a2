-- Administration: finding accounts by a piece of their name or email.

create extension if not exists pg_trgm;

-- Serves the admin user search (`q`): a case-insensitive substring of username, display name or email,
-- matched as `users_search_text(...) like '%…%'`. The fields are joined by a line break, which no
-- username or email holds, so that a match rarely spans two of them.
create index users_search_idx on users
  using gin ((lower(username || E'\n' || display_name || E'\n' || email)) gin_trgm_ops);
