// Numbered SQL migrations from migrations/, each in its own transaction, under an advisory lock so that
// nodes starting together apply them once. Then graphile-worker's own schema.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMigrations as runWorkerMigrations, Logger as WorkerLogger } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));
const LOCK_KEY = 7_311_984_001; // any constant shared by every node

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`migration file name must be NNNN_name.sql: ${file}`);
    const sql = await fs.readFile(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  return migrations;
}

export async function migrate(pool: pg.Pool, logger: Logger): Promise<{ applied: number }> {
  const migrations = await readMigrations();
  const client = await pool.connect();
  let applied = 0;
  try {
    await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now())`);
    const done = new Map(
      (
        await client.query<{ version: number; checksum: string }>(
          'select version, checksum from schema_migrations',
        )
      ).rows.map((r) => [r.version, r.checksum]),
    );
    for (const m of migrations) {
      const previous = done.get(m.version);
      if (previous !== undefined) {
        if (previous !== m.checksum) {
          throw new MigrationError(`migration ${m.version}_${m.name} was changed after it was applied`);
        }
        continue;
      }
      await client.query('begin');
      try {
        await client.query(m.sql);
        await client.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new MigrationError(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`);
      }
      applied++;
      // Not `name`: that key is the logger's own.
      logger.info({ version: m.version, migration: m.name }, 'migration applied');
    }
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
  await runWorkerMigrations({ pgPool: pool, logger: silentWorkerLogger() });
  return { applied };
}

/** True when every migration file has been applied (served by /readyz). */
export async function isMigrated(pool: pg.Pool, expected: Migration[]): Promise<boolean> {
  const latest = expected.at(-1)?.version ?? 0;
  const res = await pool.query<{ count: number }>(
    'select count(*)::int as count from schema_migrations where version <= $1',
    [latest],
  );
  return res.rows[0]?.count === expected.length;
}

function silentWorkerLogger(): WorkerLogger {
  return new WorkerLogger(() => () => {});
}
