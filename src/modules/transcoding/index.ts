// Transcoding: turns an uploaded source into an adaptive ladder, manifests and images. It hears of
// work through events (`video.uploaded`, `video.reprocess_requested`) and enqueues its own job.
import type { Tx } from '../../platform/db/database.ts';
import { defineJob } from '../../platform/jobs/definition.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { defineModule, defineSubscriber } from '../../platform/modules/define-module.ts';
import { videoUploaded } from '../uploads/index.ts';
import { videoReprocessRequested } from '../videos/index.ts';
import { giveUpProcessing } from './give-up.ts';
import { processVideoJobType } from './job-types.ts';
import { processVideo } from './pipeline.ts';
import { removeLeftWorkspaces } from './workspace.ts';

export { processVideoJobType } from './job-types.ts';

/** One pending run per video: a second request while one waits replaces it. */
const schedule = (tx: Tx, videoId: string) =>
  enqueue(tx, processVideoJobType, { videoId }, { jobKey: `process:${videoId}` });

export const transcodingModule = defineModule({
  name: 'transcoding',
  setup(ctx) {
    const deps = {
      videos: ctx.use('videos'),
      store: ctx.store,
      media: ctx.config.media,
      logger: ctx.logger,
    };
    return {
      jobs: [
        defineJob({
          ...processVideoJobType,
          handler: ({ videoId }, job) =>
            processVideo(
              deps,
              videoId,
              { jobId: job.jobId, current: job.attempts, max: job.maxAttempts },
              job.signal,
            ),
          onGiveUp: ({ videoId }, reason) => giveUpProcessing(deps, videoId, reason),
          removeLeftovers: (running) => removeLeftWorkspaces(deps.media.workDir, running),
        }),
      ],
      subscribers: [
        defineSubscriber({
          event: videoUploaded,
          name: 'transcoding.process_uploaded',
          handler: ({ payload }, { tx }) => schedule(tx, payload.video_id).then(() => {}),
        }),
        defineSubscriber({
          event: videoReprocessRequested,
          name: 'transcoding.process_again',
          handler: ({ payload }, { tx }) => schedule(tx, payload.video_id).then(() => {}),
        }),
      ],
    };
  },
});
