import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';

// int8 and numeric come back as strings by default; counts in Vireo fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

/**
 * Kysely over one pg pool. Tables are typed where they are owned: a module's repo widens this with
 * `db.withTables<ItsTables>()`, so the platform never has to know module tables.
 */
// biome-ignore lint/complexity/noBannedTypes: the platform itself owns no typed tables
export type Db = Kysely<{}>;
// biome-ignore lint/complexity/noBannedTypes: see Db
export type Tx = Transaction<{}>;
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createDatabase(
  url: string,
  poolMax: number,
  onError: (err: Error) => void = () => {},
): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolMax, idleTimeoutMillis: 30_000 });
  // A connection lost while idle or checked out (server restart) must not crash the process.
  pool.on('error', onError);
  const connections = new Set<Promise<void>>();
  pool.on('connect', (client) => {
    client.on('error', onError);
    const ended = new Promise<void>((resolve) => client.once('end', resolve));
    connections.add(ended);
    void ended.then(() => connections.delete(ended));
  });
  // biome-ignore lint/complexity/noBannedTypes: see Db
  const db = new Kysely<{}>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ran a query itself; the pool may have been used directly.
      if (!pool.ending) await pool.end();
      // pool.end() resolves once each connection was asked to end, not once it has; a server stopped
      // right after would still see the sessions and terminate them (57P01, "administrator command").
      await Promise.all(connections);
    },
  };
}
