-- The media version viewers are sent to: set when a processing run becomes playable, so a video stays
-- watchable on its previous version while it is processed again.
alter table videos add column playback_version integer;
update videos set playback_version = media_version where status in ('playable', 'ready');
