// A PostgreSQL server for tests and benchmarks, and fresh databases on it: the server named by one of
// the given environment variables when set, else an embedded one in a temporary folder.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres } from '../../src/platform/db/embedded-postgres.ts';
import type { Logger } from '../../src/platform/observability/logger.ts';

export interface PostgresServer {
  /** Connection URL of the server (its default database). */
  url: string;
  /** Where it runs, for a log line. */
  where: string;
  /** An empty database that nothing else uses; `drop()` removes it. */
  createDatabase(prefix: string): Promise<ScratchDatabase>;
  /** Stops the embedded server and removes its folder; leaves an external server alone. */
  stop(): Promise<void>;
}

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export interface PostgresServerOptions {
  /** Environment variables tried in order for the URL of an existing server. */
  urlVariables: string[];
  logger: Logger;
  /** Prefix of the temporary folder of an embedded server. */
  tmpPrefix: string;
}

export async function startPostgresServer(opts: PostgresServerOptions): Promise<PostgresServer> {
  for (const name of opts.urlVariables) {
    const url = process.env[name];
    if (url) return serverAt(url, `${new URL(url).host} (${name})`, async () => {});
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), opts.tmpPrefix));
  await fs.chmod(tmp, 0o755); // the server runs as another user when we are root
  const embedded = new EmbeddedPostgres({
    dataDir: path.join(tmp, 'pgdata'),
    port: await freePort(),
    logger: opts.logger,
  });
  try {
    const url = await embedded.start();
    return serverAt(url, `embedded PostgreSQL in ${tmp}`, async () => {
      await embedded.stop();
      await fs.rm(tmp, { recursive: true, force: true });
    });
  } catch (err) {
    await embedded.stop();
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

function serverAt(url: string, where: string, stop: () => Promise<void>): PostgresServer {
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    url,
    where,
    async createDatabase(prefix) {
      const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
      await admin((c) => c.query(`create database ${name}`));
      return {
        url: withDatabase(url, name),
        name,
        drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}),
      };
    },
    stop,
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
