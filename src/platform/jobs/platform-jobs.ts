import { z } from 'zod';
import type { RateLimiter } from '../http/rate-limit.ts';
import { defineJob } from './definition.ts';

/** Hourly removal of rate-limit windows that ended more than a day ago. */
export function sweepRateLimitsJob(limiter: RateLimiter) {
  return defineJob({
    name: 'platform.sweep_rate_limits',
    payload: z.object({}),
    cron: '17 * * * *',
    handler: async () => {
      await limiter.sweep(86_400);
      return 'done';
    },
  });
}
