// Transcoding: turns an uploaded source into an adaptive ladder, manifests and images.
import type { Config } from '../../config.ts';
import { type AnyJob, defineJob } from '../../platform/jobs/definition.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import type { VideosService } from '../videos/index.ts';
import { giveUpProcessing } from './give-up.ts';
import { processVideoJobType } from './job-types.ts';
import { processVideo } from './pipeline.ts';
import { removeLeftWorkspaces } from './workspace.ts';

export { processVideoJobType } from './job-types.ts';

export interface TranscodingDeps {
  videos: VideosService;
  store: ObjectStore;
  media: Config['media'];
  logger: Logger;
}

export function transcodingJobs(deps: TranscodingDeps): AnyJob[] {
  return [
    defineJob({
      ...processVideoJobType,
      handler: ({ videoId }, ctx) =>
        processVideo(
          deps,
          videoId,
          { jobId: ctx.jobId, current: ctx.attempts, max: ctx.maxAttempts },
          ctx.signal,
        ),
      onGiveUp: ({ videoId }, reason) => giveUpProcessing(deps, videoId, reason),
      removeLeftovers: (running) => removeLeftWorkspaces(deps.media.workDir, running),
    }),
  ];
}
