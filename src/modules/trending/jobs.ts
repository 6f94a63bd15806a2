import { z } from 'zod';
import { defineJob } from '../../platform/jobs/definition.ts';
import type { TrendingService } from './service.ts';

/**
 * Hourly, through graphile-worker's crontab: one run per hour across every worker node (each fired hour
 * is recorded in graphile_worker's known crontabs). Rankings over a day and more move little within an
 * hour, and a run costs seconds at a million interactions. A failed run rolls back and is retried.
 */
export function recomputeTrendingJob(trending: TrendingService) {
  return defineJob({
    name: 'trending.recompute',
    payload: z.object({}),
    cron: '7 * * * *',
    handler: async () => {
      await trending.recompute();
      return 'done';
    },
  });
}
