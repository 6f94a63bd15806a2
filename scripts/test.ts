// `npm test`: runs every test file against a real PostgreSQL — TEST_DATABASE_URL when set, else an
// embedded one started here — with a migrated template database that each test file clones.
//   npm test                      all of test/**/*.test.ts
//   npm test -- test/auth.test.ts  some files
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrator.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { startPostgresServer, withDatabase } from './lib/postgres-server.ts';

const root = path.resolve(import.meta.dirname, '..');
const logger = createLogger(process.env.VIREO_TEST_LOG ?? 'warn', 'vireo-test');

async function testFiles(args: string[]): Promise<string[]> {
  if (args.length) return args;
  const all = await fs.readdir(path.join(root, 'test'), { recursive: true });
  return all
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join('test', f))
    .sort();
}

function runTests(files: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
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
      { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } },
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const files = await testFiles(process.argv.slice(2));
  const server = await startPostgresServer({
    urlVariables: ['TEST_DATABASE_URL'],
    logger,
    tmpPrefix: 'vireo-test-',
  });
  console.log(`test database: ${server.where}`);
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const template = `vireo_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`create database ${template}`);
    const db = createDatabase(withDatabase(server.url, template), 2);
    await migrate(db.pool, logger);
    await db.close();
    return await runTests(files, {
      VIREO_TEST_SERVER_URL: server.url,
      VIREO_TEST_TEMPLATE: template,
      VIREO_TEST_RUN: runId,
    });
  } finally {
    const leftovers = await admin.query<{ datname: string }>(
      'select datname from pg_database where datname like $1 or datname = $2',
      [`vireo_test_${runId}_%`, template],
    );
    for (const { datname } of leftovers.rows) {
      await admin.query(`drop database if exists "${datname}" with (force)`).catch(() => {});
    }
    await admin.end();
    await server.stop();
  }
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
