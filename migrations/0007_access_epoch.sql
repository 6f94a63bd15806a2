-- A video's access epoch moves whenever fewer people may watch it (made unlisted or private, no longer
-- playable, its owner hidden or deleted). Media URLs and playback tokens carry it, so those handed out
-- before the change stop working, and shared caches never hold the new URLs for the old audience.
alter table videos add column access_epoch integer not null default 1;
