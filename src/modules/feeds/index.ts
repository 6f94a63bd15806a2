// Feeds: the viewer's feed (newest videos of the channels they belong to and the users they follow) and
// recommendations mixing followed, similar and popular videos. Owns no table; reads the social graph,
// likes and viewer states, asks viewing for the viewer's interest tags and trending for popular videos.
import { PreparedPool } from '../../platform/db/prepared-pool.ts';
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
    const pool = new PreparedPool(
      ctx.databaseUrl,
      { prefix: 'feeds', max: ctx.config.db.poolMax },
      ctx.logger,
    );
    const service = new FeedsService(
      ctx.db,
      pool,
      ctx.use('trending'),
      ctx.use('viewing'),
      ctx.config.recommendationsCacheTtlMs,
    );
    return {
      service,
      routes: (http) => feedsRoutes(http, { feeds: service, signer: ctx.use('videos').tokens }),
      stop: () => pool.close(),
    };
  },
});
