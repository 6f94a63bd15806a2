// Uploads: resumable tus uploads and one-request multipart uploads that register catalog videos.
import type { HttpServer } from '../../platform/http/server.ts';
import type { AnyJob } from '../../platform/jobs/definition.ts';
import type { UploadsDeps } from './deps.ts';
import { expireUploadsJob } from './jobs.ts';
import { plainUploadRoutes } from './routes.ts';
import { UploadsService } from './service.ts';
import { TusEndpoint } from './tus.ts';
import { tusRoutes } from './tus-routes.ts';

export type { UploadsDeps } from './deps.ts';
export { expireUploadsJobName } from './jobs.ts';
export { UploadsService } from './service.ts';

interface Uploads {
  service: UploadsService;
  tus: TusEndpoint;
}

// Routes and jobs of one app share one tus server (and its upload locks): app.ts hands both the same deps.
const instances = new WeakMap<UploadsDeps, Uploads>();

function uploadsOf(deps: UploadsDeps): Uploads {
  let uploads = instances.get(deps);
  if (!uploads) {
    const service = new UploadsService(deps);
    uploads = { service, tus: new TusEndpoint(deps, service) };
    instances.set(deps, uploads);
  }
  return uploads;
}

export function uploadRoutes(app: HttpServer, deps: UploadsDeps): void {
  const { service, tus } = uploadsOf(deps);
  tusRoutes(app, service, tus);
  plainUploadRoutes(app, service, deps.config.dir);
}

/** Ends what the uploads of this app keep open (the upload locks' connection), once nothing runs. */
export async function stopUploads(deps: UploadsDeps): Promise<void> {
  await instances.get(deps)?.tus.stop();
}

/** Scheduled jobs of this module (expired incomplete uploads are removed). */
export function uploadJobs(deps: UploadsDeps): AnyJob[] {
  const { service, tus } = uploadsOf(deps);
  return [expireUploadsJob(tus, service, deps.config.dir, deps.config.expirySeconds)];
}
