// Starts a real Vireo (HTTP server on a free port, job worker, its own database) inside the test process.
import fs from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type App, type AppOptions, startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/platform/observability/logger.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface TestApp {
  app: App;
  url: string;
  db: TestDatabase;
  /** Stops the app and drops its database, unless `keepDatabase` (a later app reuses it). */
  stop(opts?: { keepDatabase?: boolean }): Promise<void>;
}

export async function startTestApp(
  env: Record<string, string> = {},
  opts: Partial<AppOptions> = {},
  /** `database`: the database of an app stopped with `keepDatabase`, instead of a fresh one. */
  reuse: { database?: TestDatabase } = {},
): Promise<TestApp> {
  const db = reuse.database ?? (await createTestDatabase());
  // Storage and uploads live under a data folder of this app's own, removed on stop.
  const dataDir = env.DATA_DIR ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-app-')));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    LOG_LEVEL: process.env.VIREO_TEST_LOG ?? 'silent',
    WORKER_POLL_INTERVAL_MS: '200',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...env,
  });
  const logger = createLogger(config.log.level);
  const app = await startApp(config, { role: 'all', logger, ...opts });
  return {
    app,
    url: app.url ?? '',
    db,
    async stop({ keepDatabase = false } = {}) {
      await app.stop();
      if (!keepDatabase) await db.drop();
      if (!env.DATA_DIR) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request against a test app; answers status, headers and parsed body. */
export async function api<T = any>(
  t: { url: string },
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${t.url}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** The answer to a request made with node:http, read whole as api() reads its own. */
export function readResponse(res: http.IncomingMessage): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers.set(name, String(value));
      }
      resolve({ status: res.statusCode ?? 0, headers, body: parsed });
    });
  });
}

let counter = 0;

/** Registers a fresh user and answers its tokens. */
export async function registerUser(t: { url: string }, overrides: Record<string, string> = {}) {
  counter++;
  const suffix = `${process.pid}${counter}${Math.floor(Math.random() * 1e6)}`;
  const input = {
    username: `user${suffix}`.slice(0, 32),
    email: `user${suffix}@example.test`,
    password: 'correct horse battery',
    ...overrides,
  };
  const res = await api(t, 'POST', '/api/v1/auth/register', { body: input });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...input, ...res.body, id: res.body.user.id as string };
}
