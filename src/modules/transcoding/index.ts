// Transcoding: turns an uploaded source into an adaptive ladder, manifests and images.
import type { Config } from '../../config.ts';
import type { AnyJob } from '../../platform/jobs/definition.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import type { VideosService } from '../videos/index.ts';

export { processVideoJobType } from './job-types.ts';

export interface TranscodingDeps {
  videos: VideosService;
  store: ObjectStore;
  media: Config['media'];
  logger: Logger;
}

export function transcodingJobs(_deps: TranscodingDeps): AnyJob[] {
  return [];
}
