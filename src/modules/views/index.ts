// Views: counted once per viewer per video per day, buffered and written in batches; the creator
// dashboard's numbers. Only this module writes the view tables (video_stats, video_views_daily,
// video_view_marks).
import { defineModule } from '../../platform/modules/define-module.ts';
import { DashboardService } from './dashboard.ts';
import { sweepViewMarksJob } from './jobs.ts';
import { viewsRoutes } from './routes.ts';
import { ViewsService } from './service.ts';

export { type ViewCounts, ViewsService } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    views: ViewsService;
  }
}

export const viewsModule = defineModule({
  name: 'views',
  setup(ctx) {
    const service = new ViewsService(
      ctx.db,
      ctx.use('videos'),
      ctx.secret,
      ctx.logger,
      ctx.metrics.registry,
      {
        flushIntervalMs: ctx.config.views.flushIntervalMs,
      },
    );
    const dashboard = new DashboardService(ctx.db);
    return {
      service,
      routes: (http) => viewsRoutes(http, service, dashboard),
      jobs: [sweepViewMarksJob(service)],
      start: async () => service.start(),
      stop: () => service.stop(),
    };
  },
});
