import { z } from 'zod';

/** Processing of an uploaded video; enqueued by whoever completes the upload, in the same transaction. */
export const processVideoJobType = {
  name: 'transcoding.process_video',
  payload: z.object({ videoId: z.uuid() }),
  maxAttempts: 3,
};
