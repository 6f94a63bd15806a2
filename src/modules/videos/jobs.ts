// The videos module's jobs: removing a deleted video's stored objects, and publishing scheduled videos
// whose time has come.
import { z } from 'zod';
import { declareJob } from '../../platform/jobs/catalogue.ts';
import { defineJob } from '../../platform/jobs/definition.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';

/**
 * Removes stored objects of a deleted video: prefixes (ending in `/`) and single keys. Enqueued in the
 * transaction that deletes the row, so a process that dies after the commit loses nothing: the job
 * runs on some worker, and running it twice is harmless.
 */
export const removeMediaJobType = declareJob({
  name: 'videos.remove_media',
  payload: z.object({ video_id: z.uuid(), keys: z.array(z.string().min(1)).min(1) }),
  maxAttempts: 10,
});

export function removeMediaJob(store: ObjectStore) {
  return defineJob({
    ...removeMediaJobType,
    handler: async ({ keys }) => {
      for (const key of keys) {
        if (key.endsWith('/')) await store.deletePrefix(key);
        else await store.delete(key);
      }
      return 'done';
    },
  });
}

/** Publishes scheduled videos whose time has come (those that became playable publish on their own). */
export const publishDueJobType = declareJob({
  name: 'videos.publish_due',
  payload: z.object({}),
  maxAttempts: 1,
});

export function publishDueJob(publishDue: () => Promise<number>) {
  return defineJob({
    ...publishDueJobType,
    cron: '* * * * *',
    handler: async () => ((await publishDue()) > 0 ? 'done' : 'skipped'),
  });
}

/**
 * Draws the frame the owner chose as the thumbnail. Enqueued in the edit's transaction, so the edit
 * answers at once and a process that dies loses nothing; a later choice makes an earlier job skip.
 */
export const drawThumbnailJobType = declareJob({
  name: 'videos.draw_thumbnail',
  payload: z.object({ video_id: z.uuid(), time_s: z.number().min(0) }),
  maxAttempts: 5,
});

export function drawThumbnailJob(thumbnails: {
  drawFrame(id: string, timeS: number, signal?: AbortSignal): Promise<'done' | 'skipped'>;
}) {
  return defineJob({
    ...drawThumbnailJobType,
    handler: ({ video_id, time_s }, { signal }) => thumbnails.drawFrame(video_id, time_s, signal),
  });
}
