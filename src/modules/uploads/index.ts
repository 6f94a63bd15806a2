// Uploads: resumable tus uploads and one-request multipart uploads that register catalog videos.
import type { Config } from '../../config.ts';
import type { Db } from '../../platform/db/database.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import type { AnyJob } from '../../platform/jobs/definition.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import type { VideosService } from '../videos/index.ts';

export interface UploadsDeps {
  db: Db;
  videos: VideosService;
  store: ObjectStore;
  config: Config['uploads'];
  logger: Logger;
}

export function uploadRoutes(_app: HttpServer, _deps: UploadsDeps): void {}

/** Scheduled jobs of this module (expired incomplete uploads are removed). */
export function uploadJobs(_deps: UploadsDeps): AnyJob[] {
  return [];
}
