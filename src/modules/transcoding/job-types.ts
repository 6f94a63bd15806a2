import { z } from 'zod';
import { declareJob } from '../../platform/jobs/catalogue.ts';

/**
 * Processing of an uploaded video; enqueued by this module's subscribers when a video is uploaded or
 * its owner asks for it again, in the transaction that records the event's delivery.
 */
export const processVideoJobType = declareJob({
  name: 'transcoding.process_video',
  payload: z.object({ videoId: z.uuid() }),
  maxAttempts: 3,
});
