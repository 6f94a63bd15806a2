// Fixed-window counters in PostgreSQL, so that a limit holds across every API node.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { AppError } from './errors.ts';

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

export class RateLimiter {
  constructor(private readonly db: Db) {}

  /** Counts one hit on `key`; throws RATE_LIMITED (with Retry-After) once the window's limit is passed. */
  async hit(key: string, { limit, windowSeconds }: RateLimit): Promise<void> {
    const { rows } = await sql<{ hits: number; retry_after: number }>`
      insert into rate_limit_counters as c (key, window_start, hits) values (${key}, now(), 1)
      on conflict (key) do update set
        window_start = case when c.window_start <= now() - make_interval(secs => ${windowSeconds})
                            then now() else c.window_start end,
        hits = case when c.window_start <= now() - make_interval(secs => ${windowSeconds})
                    then 1 else c.hits + 1 end
      returning hits,
        ceil(extract(epoch from c.window_start + make_interval(secs => ${windowSeconds}) - now()))::int as retry_after
    `.execute(this.db);
    const row = rows[0]!;
    if (row.hits > limit) {
      const retryAfter = Math.max(1, row.retry_after);
      throw new AppError('RATE_LIMITED', `Too many attempts; retry in ${retryAfter} s`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
  }

  /** Removes windows that ended; run by a scheduled job. */
  async sweep(olderThanSeconds: number): Promise<number> {
    const result = await sql`
      delete from rate_limit_counters where window_start < now() - make_interval(secs => ${olderThanSeconds})
    `.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }
}
