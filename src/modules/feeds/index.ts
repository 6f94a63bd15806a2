// Feeds: the viewer's feed (newest videos of the channels they belong to and the users they follow) and
// recommendations mixing followed, similar and popular videos. Owns no table; reads the social graph,
// likes and viewer states, asks viewing for the viewer's interest tags and trending for popular videos.
import { defineModule } from '../../platform/modules/define-module.ts';
import { feedsRoutes } from './routes.ts';
import { FeedsService } from './service.ts';

export { FeedsService, type RecommendedVideo } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    feeds: FeedsService;
  }
}

export const feedsModule = defineModule({
  name: 'feeds',
  setup(ctx) {
    const service = new FeedsService(ctx.db, ctx.use('trending'), ctx.use('viewing'));
    return {
      service,
      routes: (http) => feedsRoutes(http, { feeds: service, signer: ctx.use('videos').tokens }),
    };
  },
});
