// Connections that run each query as a named prepared statement: PostgreSQL plans each shape of query once
// per connection instead of on every request. For hot reads whose planning costs as much as running them
// (search, feeds); the statements' texts must be few and fixed (values always as parameters).
import { createHash } from 'node:crypto';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

export interface PreparedPoolOptions {
  /** Prefix of the statements' names, which tells whose they are in pg_prepared_statements. */
  prefix: string;
  max: number;
  /** Session settings (`-c name=value …`), for planner settings of these reads only. */
  options?: string;
}

export class PreparedPool {
  private readonly pool: pg.Pool;

  constructor(
    databaseUrl: string,
    private readonly opts: PreparedPoolOptions,
    logger: Logger,
  ) {
    this.pool = new pg.Pool({
      connectionString: databaseUrl,
      max: opts.max,
      idleTimeoutMillis: 30_000,
      options: opts.options,
    });
    this.pool.on('error', (err) =>
      logger.warn({ err, pool: opts.prefix }, 'prepared-statement connection error'),
    );
  }

  async query<R>(compiled: CompiledQuery<R>): Promise<R[]> {
    const name = `${this.opts.prefix}_${createHash('sha1').update(compiled.sql).digest('hex').slice(0, 16)}`;
    const { rows } = await this.pool.query({ name, text: compiled.sql, values: [...compiled.parameters] });
    return rows as R[];
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
