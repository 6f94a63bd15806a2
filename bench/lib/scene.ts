// What every benchmark stands on: a PostgreSQL server, a scratch database on it, a temporary folder,
// and a list of clean-ups run in reverse order at the end, whatever happened.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startPostgresServer } from '../../scripts/lib/postgres-server.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/platform/observability/logger.ts';

export interface Scene {
  logger: Logger;
  databaseUrl: string;
  /** Another scratch database on the same server, dropped at the end; answers its URL. */
  database(name: string): Promise<string>;
  /** A temporary folder of this run, removed at the end. */
  dir: string;
  /** Registers a clean-up; the last registered runs first. */
  defer(stop: () => Promise<unknown>): void;
  close(): Promise<void>;
}

export async function openScene(progress: (line: string) => void, dirPrefix: string): Promise<Scene> {
  const logger = createLogger('warn', 'vireo-bench');
  const server = await startPostgresServer({
    urlVariables: ['BENCH_DATABASE_URL', 'TEST_DATABASE_URL'],
    logger,
    tmpPrefix: 'vireo-bench-',
  });
  progress(`database: ${server.where}`);
  const stops: (() => Promise<unknown>)[] = [() => server.stop()];
  const close = async () => {
    for (const stop of stops) await stop().catch((err) => progress(`clean-up failed: ${err}`));
  };
  try {
    const database = await server.createDatabase('vireo_bench');
    stops.unshift(() => database.drop());
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), dirPrefix));
    stops.unshift(() => fs.rm(dir, { recursive: true, force: true }));
    const more = async (name: string) => {
      const extra = await server.createDatabase(name);
      stops.unshift(() => extra.drop());
      return extra.url;
    };
    return {
      logger,
      databaseUrl: database.url,
      database: more,
      dir,
      defer: (stop) => stops.unshift(stop),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Settings of a Vireo node on the scene's database and folder, on a free local port, silent; `env` adds. */
export function sceneConfig(scene: Scene, env: Record<string, string> = {}): Config {
  return loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: scene.dir,
    DATABASE_URL: scene.databaseUrl,
    LOG_LEVEL: 'silent',
    ...env,
  });
}
