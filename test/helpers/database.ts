// A fresh database per test app, cloned from the template that scripts/test.ts migrated.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests with "npm test"`);
  return value;
}

export function serverUrl(database: string): string {
  const u = new URL(env('VIREO_TEST_SERVER_URL'));
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `vireo_test_${env('VIREO_TEST_RUN')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: env('VIREO_TEST_SERVER_URL') });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${env('VIREO_TEST_TEMPLATE')}`);
  } finally {
    await admin.end();
  }
  return {
    url: serverUrl(name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: env('VIREO_TEST_SERVER_URL') });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`).catch(() => {});
      await c.end();
    },
  };
}
