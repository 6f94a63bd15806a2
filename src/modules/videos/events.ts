// Events the videos module emits.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

/** The owner (or an administrator) asked for a video to be processed again. */
export const videoReprocessRequested = defineEvent({
  type: 'video.reprocess_requested',
  payload: z.object({ video_id: z.uuid() }),
});
