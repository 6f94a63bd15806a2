// Likes: users like videos and comments, counted exactly. Only this module writes the likes,
// like_counts and user_like_counts tables (a comment's own count goes through CommentsService).
import { defineModule, defineSubscriber } from '../../platform/modules/define-module.ts';
import { commentDeleted } from '../comments/index.ts';
import { videoDeleted } from '../videos/index.ts';
import { likesRoutes } from './routes.ts';
import { LikesService } from './service.ts';

export * from './events.ts';
export { LikesService } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    likes: LikesService;
  }
}

export const likesModule = defineModule({
  name: 'likes',
  setup(ctx) {
    const videos = ctx.use('videos');
    const service = new LikesService({ db: ctx.db, videos, comments: ctx.use('comments') });
    return {
      service,
      routes: (http) => likesRoutes(http, service, videos.tokens),
      // Likes have no foreign key on their target: they go when it does.
      subscribers: [
        defineSubscriber({
          event: videoDeleted,
          name: 'likes.video_deleted',
          handler: ({ payload }, { tx }) => service.videoDeleted(tx, payload.video_id),
        }),
        defineSubscriber({
          event: commentDeleted,
          name: 'likes.comment_deleted',
          handler: ({ payload }, { tx }) => service.commentDeleted(tx, payload.comment_id),
        }),
      ],
    };
  },
});
