// Uploads: resumable tus uploads and one-request multipart uploads that register catalog videos, and
// announce `video.uploaded` when a source is whole.
import { defineModule } from '../../platform/modules/define-module.ts';
import { expireUploadsJob } from './jobs.ts';
import { plainUploadRoutes } from './routes.ts';
import { UploadsService } from './service.ts';
import { TusEndpoint } from './tus.ts';
import { tusRoutes } from './tus-routes.ts';

export { videoUploaded } from './events.ts';
export { expireUploadsJobName } from './jobs.ts';
export { UploadsService } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    uploads: UploadsService;
  }
}

export const uploadsModule = defineModule({
  name: 'uploads',
  setup(ctx) {
    const deps = {
      db: ctx.db,
      databaseUrl: ctx.databaseUrl,
      videos: ctx.use('videos'),
      store: ctx.store,
      config: ctx.config.uploads,
      logger: ctx.logger,
    };
    const service = new UploadsService(deps);
    // One tus server (and one connection for its upload locks) serves the routes and the jobs alike.
    const tus = new TusEndpoint(deps, service);
    return {
      service,
      routes(http) {
        tusRoutes(http, service, tus);
        plainUploadRoutes(http, service, deps.config.dir);
      },
      jobs: [expireUploadsJob(tus, service, deps.config.dir, deps.config.expirySeconds)],
      // Upload locks live on a connection of their own, released once nothing runs.
      stop: () => tus.stop(),
    };
  },
});
