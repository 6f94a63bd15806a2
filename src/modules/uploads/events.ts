// Events the uploads module emits.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

/** The source of a video is whole and in the store: it can be processed. */
export const videoUploaded = defineEvent({
  type: 'video.uploaded',
  payload: z.object({ video_id: z.uuid(), size: z.number().int().nonnegative() }),
});
