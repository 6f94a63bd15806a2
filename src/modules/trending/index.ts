// Trending: videos and tags ranked per period (daily, weekly, monthly) by the seed's score, recomputed
// hourly into trending_videos and trending_tags, which only this module writes. Its service gives the
// feeds module the popular videos of a period.
import { defineModule } from '../../platform/modules/define-module.ts';
import { recomputeTrendingJob } from './jobs.ts';
import { trendingRoutes } from './routes.ts';
import { TrendingService } from './service.ts';

export { PERIODS, type Period, VIDEO_WEIGHTS } from './score.ts';
export { TrendingService, type TrendingVideo } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    trending: TrendingService;
  }
}

export const trendingModule = defineModule({
  name: 'trending',
  setup(ctx) {
    const service = new TrendingService(ctx.db, ctx.logger);
    return {
      service,
      routes: (http) => trendingRoutes(http, { trending: service, signer: ctx.use('videos').tokens }),
      jobs: [recomputeTrendingJob(service)],
    };
  },
});
