// Collections: playlists and each user's Watch later, their ordered items and who may see them. Only
// this module writes the collections and collection_items tables; it tells the viewer-state projection
// (viewing) what is bookmarked through collection.item_added / item_removed.
import { defineModule } from '../../platform/modules/define-module.ts';
import { collectionsRoutes } from './routes.ts';
import { CollectionsService } from './service.ts';

export * from './events.ts';
export { CollectionsService } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    collections: CollectionsService;
  }
}

export const collectionsModule = defineModule({
  name: 'collections',
  setup(ctx) {
    const videos = ctx.use('videos');
    const service = new CollectionsService(ctx.db, videos, ctx.use('accounts'), ctx.config.collections);
    return {
      service,
      routes: (http) => collectionsRoutes(http, { collections: service, signer: videos.tokens }),
    };
  },
});
