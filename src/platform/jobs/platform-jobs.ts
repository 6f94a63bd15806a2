import { z } from 'zod';
import type { IdempotencyStore } from '../http/idempotency.ts';
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

/** Hourly removal of Idempotency-Key answers older than their 24 h. */
export function sweepIdempotencyKeysJob(store: IdempotencyStore) {
  return defineJob({
    name: 'platform.sweep_idempotency_keys',
    payload: z.object({}),
    cron: '47 * * * *',
    handler: async () => {
      await store.sweep();
      return 'done';
    },
  });
}
