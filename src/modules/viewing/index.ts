// Viewing: each viewer's state per video (liked, bookmarked, progress), a projection of like and
// collection events plus the player's progress reports; shown on a video's answer, in continue watching
// and history, and read by feeds. Only this module writes viewer_states.
import { defineModule, defineSubscriber } from '../../platform/modules/define-module.ts';
import { collectionItemAdded, collectionItemRemoved } from '../collections/index.ts';
import { likeCreated, likeDeleted } from '../likes/index.ts';
import { viewingRoutes } from './routes.ts';
import { ViewingService } from './service.ts';

export { type BookmarkPayload, type LikePayload, ViewingService, viewerStateProjection } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    viewing: ViewingService;
  }
}

export const viewingModule = defineModule({
  name: 'viewing',
  setup(ctx) {
    const videos = ctx.use('videos');
    const service = new ViewingService(ctx.db, videos);
    videos.provideViewerStates((userId, videoId) => service.stateOf(userId, videoId));
    const { projection } = service;
    return {
      service,
      routes: (http) => viewingRoutes(http, { viewing: service, signer: videos.tokens }),
      subscribers: [
        defineSubscriber({
          event: likeCreated,
          name: 'viewing.like_created',
          handler: (event, { tx }) => projection.like(tx, event, true),
        }),
        defineSubscriber({
          event: likeDeleted,
          name: 'viewing.like_deleted',
          handler: (event, { tx }) => projection.like(tx, event, false),
        }),
        defineSubscriber({
          event: collectionItemAdded,
          name: 'viewing.item_added',
          handler: (event, { tx }) => projection.bookmark(tx, event),
        }),
        defineSubscriber({
          event: collectionItemRemoved,
          name: 'viewing.item_removed',
          handler: (event, { tx }) => projection.bookmark(tx, event),
        }),
      ],
    };
  },
});
