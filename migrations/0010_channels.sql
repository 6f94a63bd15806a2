-- Channels of the accounts made before channels existed (new accounts get theirs when they are made).
-- Once, here, rather than at every start: an owner who deletes their channel must not get it back.
-- The handle is the username in lower case, cut to 30; two usernames that cut to the same handle
-- (only possible past 30 characters) have all but the oldest end in part of their id.
insert into channels (id, owner_id, handle, name)
select gen_random_uuid(), u.id,
  case when u.rn = 1 then u.base else left(u.base, 21) || '_' || left(replace(u.id::text, '-', ''), 8) end,
  left(u.display_name, 50)
from (
  select id, display_name,
    left(lower(regexp_replace(username, '[^A-Za-z0-9_]', '_', 'g')), 30) as base,
    row_number() over (
      partition by left(lower(regexp_replace(username, '[^A-Za-z0-9_]', '_', 'g')), 30)
      order by created_at, id
    ) as rn
  from users
  where not exists (select 1 from channels c where c.owner_id = users.id)
) u
on conflict do nothing;
