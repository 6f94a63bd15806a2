// Counters in PostgreSQL, so that a limit holds across every API node: fixed windows, and exponential
// backoff after repeated failures.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { DomainError } from '../errors/domain-error.ts';

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/**
 * After `after` failures, the next attempt waits `baseSeconds` since the last failure, doubling with
 * every further failure up to `maxSeconds`. The count starts again once no failure came for `resetSeconds`.
 */
export interface Backoff {
  after: number;
  baseSeconds: number;
  maxSeconds: number;
  resetSeconds: number;
}

export class RateLimiter {
  constructor(private readonly db: Db) {}

  /** Counts one hit on `key`; throws RATE_LIMITED (with Retry-After) once the window's limit is passed. */
  async hit(key: string, { limit, windowSeconds }: RateLimit): Promise<void> {
    const { hits, retryAfter } = await this.count(key, windowSeconds);
    if (hits > limit) throw limited(retryAfter);
  }

  /**
   * Throws RATE_LIMITED when `key` already has `limit` hits in its window, and counts nothing: with
   * `count`, for limits on failures, which are known only after the attempt.
   */
  async check(key: string, { limit, windowSeconds }: RateLimit): Promise<void> {
    const { rows } = await sql<{ hits: number; retry_after: number }>`
      select hits,
        ceil(extract(epoch from window_start + make_interval(secs => ${windowSeconds}) - now()))::int
          as retry_after
      from rate_limit_counters
      where key = ${key} and window_start > now() - make_interval(secs => ${windowSeconds})
    `.execute(this.db);
    const row = rows[0];
    if (row && row.hits >= limit) throw limited(row.retry_after);
  }

  /** Counts one hit on `key` in its current window (a new one once the last has ended). */
  async count(key: string, windowSeconds: number): Promise<{ hits: number; retryAfter: number }> {
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
    return { hits: row.hits, retryAfter: row.retry_after };
  }

  /** Forgets `key`'s hits. */
  async reset(key: string): Promise<void> {
    await sql`delete from rate_limit_counters where key = ${key}`.execute(this.db);
  }

  /** Throws RATE_LIMITED while `key` must still wait after its last failure (see Backoff). */
  async checkBackoff(key: string, policy: Backoff): Promise<void> {
    // For these keys window_start is the time of the last failure and hits the failures since the reset.
    const { rows } = await sql<{ failures: number; since: number }>`
      select hits as failures, extract(epoch from now() - window_start)::float8 as since
      from rate_limit_counters
      where key = ${key} and window_start > now() - make_interval(secs => ${policy.resetSeconds})
    `.execute(this.db);
    const row = rows[0];
    if (!row || row.failures < policy.after) return;
    const doublings = Math.min(row.failures - policy.after, 30);
    const wait = Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** doublings);
    if (row.since < wait) throw limited(Math.ceil(wait - row.since));
  }

  /** Counts a failure for `checkBackoff`. */
  async recordFailure(key: string, policy: Backoff): Promise<void> {
    await sql`
      insert into rate_limit_counters as c (key, window_start, hits) values (${key}, now(), 1)
      on conflict (key) do update set
        hits = case when c.window_start <= now() - make_interval(secs => ${policy.resetSeconds})
                    then 1 else c.hits + 1 end,
        window_start = now()
    `.execute(this.db);
  }

  /** Removes windows that ended; run by a scheduled job. */
  async sweep(olderThanSeconds: number): Promise<number> {
    const result = await sql`
      delete from rate_limit_counters where window_start < now() - make_interval(secs => ${olderThanSeconds})
    `.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }
}

function limited(retryAfterSeconds: number): DomainError {
  const retryAfter = Math.max(1, retryAfterSeconds);
  return new DomainError('RATE_LIMITED', `Too many attempts; retry in ${retryAfter} s`, {
    headers: { 'retry-after': String(retryAfter) },
  });
}
