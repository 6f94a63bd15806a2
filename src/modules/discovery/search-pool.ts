// Search runs on connections of its own: planned for its indexes (random_page_cost 1.1: the GIN indexes
// are small and hot, and at the default the planner parses every row instead of reading them), and as
// named prepared statements, so that PostgreSQL plans each shape of query once per connection instead of
// on every request (planning cost as much as running a two-word search on 100k videos).
import { createHash } from 'node:crypto';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Logger } from '../../platform/observability/logger.ts';

export class SearchPool {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string, max: number, logger: Logger) {
    this.pool = new pg.Pool({
      connectionString: databaseUrl,
      max,
      idleTimeoutMillis: 30_000,
      options: '-c random_page_cost=1.1',
    });
    this.pool.on('error', (err) => logger.warn({ err }, 'search connection error'));
  }

  async query<R>(compiled: CompiledQuery<R>): Promise<R[]> {
    const name = `search_${createHash('sha1').update(compiled.sql).digest('hex').slice(0, 16)}`;
    const { rows } = await this.pool.query({ name, text: compiled.sql, values: [...compiled.parameters] });
    return rows as R[];
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
