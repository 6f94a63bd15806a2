// Discovery: tags, viewers' tag preferences, search and recommendations, and the cache in front of
// them. Only this module writes the tags and tag-preference tables.
import { defineModule } from '../../platform/modules/define-module.ts';
import { invalidationSubscribers, listenForChanges } from './invalidation.ts';
import { RecommendationCache } from './recommendation-cache.ts';
import { Recommendations } from './recommendations.ts';
import { RedisLayer } from './redis-layer.ts';
import { discoveryRoutes } from './routes.ts';
import type { SearchPage } from './search.ts';
import { SearchCache } from './search-cache.ts';
import { SearchPool } from './search-pool.ts';
import { TagsService } from './tags-service.ts';

export { Recommendations } from './recommendations.ts';
export {
  type SummaryRow,
  signSummary,
  summaryColumns,
  toSummary,
  type VideoSummary,
  videoSummaryDto,
} from './summary.ts';
export { MAX_PREFERRED_TAGS, type TagRow, TagsService } from './tags-service.ts';

export interface DiscoveryService {
  tags: TagsService;
  recommendations: Recommendations;
}

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    discovery: DiscoveryService;
  }
}

export const discoveryModule = defineModule({
  name: 'discovery',
  setup(ctx) {
    const tags = new TagsService(ctx.db, ctx.use('audit'));
    const cache = new RecommendationCache((err) => ctx.logger.warn({ err }, 'recommendation refresh failed'));
    const recommendations = new Recommendations(ctx.db, tags, cache);
    tags.listen(ctx.hub);
    const searches = new SearchCache<SearchPage>(ctx.config.searchCacheTtlMs);
    listenForChanges(ctx.hub, cache, searches, ctx.logger);
    const searchPool = new SearchPool(ctx.databaseUrl, ctx.config.db.poolMax, ctx.logger);
    let redis: RedisLayer | undefined;
    return {
      service: { tags, recommendations },
      routes: (http) =>
        discoveryRoutes(http, {
          db: ctx.db,
          searchPool,
          searches,
          tags,
          recommendations,
          signer: ctx.use('videos').tokens,
        }),
      subscribers: invalidationSubscribers(),
      async start() {
        const url = ctx.config.redisUrl;
        if (!url) return;
        redis = await RedisLayer.connect(url, ctx.logger);
        cache.attach(redis);
      },
      async stop() {
        await redis?.close();
        await searchPool.close();
      },
    };
  },
});
