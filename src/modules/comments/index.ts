// Comments: threaded comments on videos, their counts, @mentions and the owner's switch. Only this
// module writes the comments and video_comment_counts tables.
import { defineModule } from '../../platform/modules/define-module.ts';
import { commentsRoutes } from './routes.ts';
import { CommentsService } from './service.ts';

export * from './events.ts';
export { CommentsService } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    comments: CommentsService;
  }
}

export const commentsModule = defineModule({
  name: 'comments',
  setup(ctx) {
    const service = new CommentsService({
      db: ctx.db,
      videos: ctx.use('videos'),
      users: ctx.use('accounts'),
      limiter: ctx.limiter,
      perMinute: ctx.config.comments.ratePerMinute,
    });
    return { service, routes: (http) => commentsRoutes(http, service) };
  },
});
