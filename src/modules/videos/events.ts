// Events the videos module emits, each in the transaction of the change it announces.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

/** The owner (or an administrator) asked for a video to be processed again. */
export const videoReprocessRequested = defineEvent({
  type: 'video.reprocess_requested',
  payload: z.object({ video_id: z.uuid() }),
});

const ref = { video_id: z.uuid(), owner_id: z.uuid() };

/** The video became published: its audience may see it (now, or at its scheduled time). */
export const videoPublished = defineEvent({
  type: 'video.published',
  payload: z.object({ ...ref, title: z.string(), published_at: z.iso.datetime() }),
});

/** Its owner took it down (`unpublished`) or a moderator rejected it (`rejected`). */
export const videoUnpublished = defineEvent({
  type: 'video.unpublished',
  payload: z.object({
    ...ref,
    publication: z.enum(['unpublished', 'rejected']),
    reason: z.string().nullable(),
  }),
});

/** Visibility or access tier changed. */
export const videoVisibilityChanged = defineEvent({
  type: 'video.visibility_changed',
  payload: z.object({
    ...ref,
    visibility: z.enum(['public', 'unlisted', 'private']),
    access_tier: z.number().int().min(0).max(2),
  }),
});

/** Title, description, tags, category, language, thumbnail or the comments switch changed. */
export const videoUpdated = defineEvent({
  type: 'video.updated',
  payload: z.object({ ...ref, fields: z.array(z.string()) }),
});

/** A moderator hid the video (`hidden: true`) or restored it. */
export const videoModerated = defineEvent({
  type: 'video.moderated',
  payload: z.object({ ...ref, hidden: z.boolean(), reason: z.string().nullable() }),
});

/** The video is processed and every rendition stored. */
export const videoReady = defineEvent({
  type: 'video.ready',
  payload: z.object({ ...ref, duration_s: z.number().nullable() }),
});

/** Processing failed for good. */
export const videoFailed = defineEvent({
  type: 'video.failed',
  payload: z.object({ ...ref, failure_code: z.string() }),
});

/** The video and every stored object of it are gone. */
export const videoDeleted = defineEvent({
  type: 'video.deleted',
  payload: z.object({ ...ref }),
});

/** Every catalog event of a video, for subscribers that take them all (webhooks, caches). */
export const VIDEO_EVENTS = [
  videoPublished,
  videoUnpublished,
  videoVisibilityChanged,
  videoUpdated,
  videoModerated,
  videoReady,
  videoFailed,
  videoDeleted,
] as const;
