import { z } from 'zod';
import { defineJob } from '../../platform/jobs/definition.ts';
import type { ViewsService } from './service.ts';

/** Hourly: marks older than a day stop no count, so they go (the table stays about a day of viewers). */
export function sweepViewMarksJob(views: ViewsService) {
  return defineJob({
    name: 'views.sweep_marks',
    payload: z.object({}),
    cron: '41 * * * *',
    handler: async () => {
      await views.sweepMarks();
      return 'done';
    },
  });
}
