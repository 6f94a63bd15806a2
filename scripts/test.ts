// `npm test`: runs every test file against a real PostgreSQL — TEST_DATABASE_URL when set, else an
// embedded one started here — with a migrated template database that each test file clones.
//   npm test                      all of test/**/*.test.ts
//   npm test -- test/auth.test.ts  some files
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase } from '../src/platform/db/database.ts';
import { EmbeddedPostgres } from '../src/platform/db/embedded-postgres.ts';
import { migrate } from '../src/platform/db/migrator.ts';
import { createLogger } from '../src/platform/observability/logger.ts';

const root = path.resolve(import.meta.dirname, '..');
const logger = createLogger(process.env.VIREO_TEST_LOG ?? 'warn', 'vireo-test');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function testFiles(args: string[]): Promise<string[]> {
  if (args.length) return args;
  const all = await fs.readdir(path.join(root, 'test'), { recursive: true });
  return all
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join('test', f))
    .sort();
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function main(): Promise<number> {
  const files = await testFiles(process.argv.slice(2));
  let serverUrl = process.env.TEST_DATABASE_URL;
  let embedded: EmbeddedPostgres | undefined;
  let tmp: string | undefined;
  if (!serverUrl) {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-test-'));
    await fs.chmod(tmp, 0o755); // the server runs as another user when we are root
    embedded = new EmbeddedPostgres({ dataDir: path.join(tmp, 'pgdata'), port: await freePort(), logger });
    serverUrl = await embedded.start();
    console.log(`test database: embedded PostgreSQL in ${tmp}`);
  } else {
    console.log(`test database: ${new URL(serverUrl).host} (TEST_DATABASE_URL)`);
  }
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const template = `vireo_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  let code = 1;
  try {
    await admin.query(`create database ${template}`);
    const db = createDatabase(withDatabase(serverUrl, template), 2);
    await migrate(db.pool, logger);
    await db.close();
    // A closed connection's server process lingers a moment; cloning needs the template unused.
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.query(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [template],
      );
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          '--test-reporter=spec',
          `--test-concurrency=${Math.max(2, os.availableParallelism())}`,
          '--test-timeout=180000',
          ...files,
        ],
        {
          cwd: root,
          stdio: 'inherit',
          env: {
            ...process.env,
            VIREO_TEST_SERVER_URL: serverUrl,
            VIREO_TEST_TEMPLATE: template,
            VIREO_TEST_RUN: runId,
          },
        },
      );
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
  } finally {
    const leftovers = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like $1 or datname = $2`,
      [`vireo_test_${runId}_%`, template],
    );
    for (const { datname } of leftovers.rows) {
      await admin.query(`drop database if exists "${datname}" with (force)`).catch(() => {});
    }
    await admin.end();
    await embedded?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  }
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
