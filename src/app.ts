// Composition root: builds the platform, wires the modules into it, and stops it all in order.
import type { Runner } from 'graphile-worker';
import { sql } from 'kysely';
import type { Config } from './config.ts';
import { AccessTokens, AccountsService, accountsRoutes } from './modules/accounts/index.ts';
import { adminRoutes } from './modules/admin/index.ts';
import { PlaybackTokens, playbackRoutes } from './modules/playback/index.ts';
import { transcodingJobs } from './modules/transcoding/index.ts';
import { stopUploads, type UploadsDeps, uploadJobs, uploadRoutes } from './modules/uploads/index.ts';
import { VideosService, videosRoutes } from './modules/videos/index.ts';
import { createDatabase, type Database } from './platform/db/database.ts';
import { EmbeddedPostgres } from './platform/db/embedded-postgres.ts';
import { isMigrated, migrate, readMigrations } from './platform/db/migrator.ts';
import { sharedSecret } from './platform/db/secrets.ts';
import { createEventBus, type EventBus } from './platform/events/bus.ts';
import { registerOutboxMetrics } from './platform/events/lag.ts';
import { installAuthGuard } from './platform/http/auth-guard.ts';
import { healthRoutes } from './platform/http/health.ts';
import { RateLimiter } from './platform/http/rate-limit.ts';
import { createHttpServer, type HttpServer } from './platform/http/server.ts';
import { type AnyJob, JobRegistry } from './platform/jobs/definition.ts';
import { sweepRateLimitsJob } from './platform/jobs/platform-jobs.ts';
import { startWorker } from './platform/jobs/worker.ts';
import { configureMediaTools } from './platform/media/tools.ts';
import { createLogger, type Logger } from './platform/observability/logger.ts';
import { createMetrics, registerPoolMetrics } from './platform/observability/metrics.ts';
import { NotifyHub } from './platform/realtime/notify-hub.ts';
import { createObjectStore } from './platform/storage/create-store.ts';
import type { ObjectStore } from './platform/storage/object-store.ts';
import { VERSION } from './version.ts';

export type Role = 'all' | 'api' | 'worker';

export interface AppOptions {
  role: Role;
  logger?: Logger;
  /** More job definitions (tests use this to exercise the job platform). */
  jobs?: AnyJob[];
  /** Called before the event relay starts, to add subscribers (tests use this). */
  subscribe?: (events: EventBus) => void;
}

export interface App {
  config: Config;
  logger: Logger;
  database: Database;
  accounts: AccountsService;
  videos: VideosService;
  store: ObjectStore;
  events: EventBus;
  http?: HttpServer;
  /** Base URL of the HTTP server, when this role serves HTTP. */
  url?: string;
  stop(): Promise<void>;
}

/** Connects to (or starts) PostgreSQL and applies migrations; answers the connection URL. */
export async function prepareDatabase(
  config: Config,
  logger: Logger,
): Promise<{ database: Database; url: string; embedded?: EmbeddedPostgres }> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = new EmbeddedPostgres({
      ...config.embeddedPostgres,
      logger: logger.child({ area: 'vireo:db' }),
    });
    url = await embedded.start();
  }
  const dbLogger = logger.child({ area: 'vireo:db' });
  const database = createDatabase(url, config.db.poolMax, (err) =>
    dbLogger.warn({ err }, 'database connection error'),
  );
  try {
    await migrate(database.pool, dbLogger);
  } catch (err) {
    await database.close();
    await embedded?.stop();
    throw err;
  }
  return { database, url, embedded };
}

export async function startApp(config: Config, opts: AppOptions): Promise<App> {
  const logger = opts.logger ?? createLogger(config.log.level);
  const { database, url: databaseUrl, embedded } = await prepareDatabase(config, logger);
  const { db, pool } = database;
  let http: HttpServer | undefined;
  let worker: Runner | undefined;
  let uploadsDeps: UploadsDeps | undefined;
  const hub = new NotifyHub(databaseUrl, logger.child({ area: 'vireo:realtime' }));
  const events = createEventBus({
    db,
    databaseUrl,
    logger,
    nats: config.events.nats,
    pollIntervalMs: config.events.pollIntervalMs,
    retentionHours: config.events.retentionHours,
    stopTimeoutMs: config.shutdownTimeoutMs,
  });

  // Order matters: stop taking requests; let running jobs finish, or hand them back when the time is up;
  // close the database only once no connection is in use; stop its server last, so that it never ends a
  // session of ours (that is what logged "terminating connection due to administrator command").
  const shutdown = async () => {
    const within = <T>(p: Promise<T>, ms: number) =>
      Promise.race([p.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), ms).unref())]);
    const httpClosed = await within(http?.close() ?? Promise.resolve(), config.shutdownTimeoutMs).catch(
      (err) => logger.error({ err }, 'http close failed'),
    );
    if (httpClosed === false) logger.warn('requests still open at shutdown were cut');
    // Its LISTEN connection is not in the pool: left open, the database server would end it.
    await hub.stop();
    // Lets the batch being delivered finish, then the leader lock go, so another node relays at once.
    await events.stop().catch((err) => logger.error({ err }, 'event relay stop failed'));
    if (worker) {
      // Runner.stop() waits for running jobs; the worker aborts them after shutdownTimeoutMs and hands
      // them back (see worker.ts), so this bound is only a last resort for a worker that hangs.
      const stopped = await within(worker.stop(), config.shutdownTimeoutMs + 2000).catch((err) =>
        logger.error({ err }, 'worker stop failed'),
      );
      if (stopped === false) {
        logger.warn('job worker did not stop in time; its jobs are failed and retried');
        await within(worker.kill(), 6000).catch((err) => logger.error({ err }, 'worker kill failed'));
      }
    }
    // Upload locks live on a connection of their own, outside the pool.
    if (uploadsDeps) await stopUploads(uploadsDeps);
    await database.close().catch((err) => logger.error({ err }, 'database close failed'));
    await embedded?.stop();
  };
  // A second call (a second signal, a test's cleanup) waits for the first instead of stopping twice.
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= shutdown();
    return stopping;
  };

  try {
    const limiter = new RateLimiter(db);
    const secret = config.auth.jwtSecret ?? (await sharedSecret(db, 'jwt_signing_key'));
    const accounts = new AccountsService({
      db,
      tokens: new AccessTokens(secret, config.auth.accessTokenTtlSeconds),
      limiter,
      logger: logger.child({ area: 'vireo:accounts' }),
      refreshTtlSeconds: config.auth.refreshTokenTtlSeconds,
      limits: config.rateLimit,
      hub,
    });
    if (config.admin) await accounts.ensureInitialAdmin(config.admin);

    configureMediaTools({ ffmpeg: config.media.ffmpegPath, ffprobe: config.media.ffprobePath });
    const store = createObjectStore(config.storage);
    const videos = new VideosService(db);
    uploadsDeps = {
      db,
      databaseUrl,
      videos,
      store,
      config: config.uploads,
      logger: logger.child({ area: 'vireo:uploads' }),
    };
    const registry = new JobRegistry().add(
      sweepRateLimitsJob(limiter),
      ...transcodingJobs({
        videos,
        store,
        media: config.media,
        logger: logger.child({ area: 'vireo:transcoding' }),
      }),
      ...uploadJobs(uploadsDeps),
      ...(opts.jobs ?? []),
    );

    let url: string | undefined;
    if (opts.role !== 'worker') {
      const metrics = createMetrics();
      registerPoolMetrics(metrics.registry, pool);
      registerOutboxMetrics(metrics.registry, db);
      http = await createHttpServer({
        logger,
        metrics,
        trustProxy: config.http.trustProxy,
        version: VERSION,
      });
      installAuthGuard(http, accounts.authenticate);
      const migrations = await readMigrations();
      healthRoutes(
        http,
        {
          database: async () => {
            await sql`select 1`.execute(db);
            return true;
          },
          migrations: () => isMigrated(pool, migrations),
        },
        metrics,
      );
      await hub.start();
      accountsRoutes(http, accounts);
      adminRoutes(http, accounts);
      const playbackTokens = PlaybackTokens.fromSecret(secret, config.auth.playbackTokenTtlSeconds);
      videosRoutes(http, { videos, hub, signer: playbackTokens });
      uploadRoutes(http, uploadsDeps);
      playbackRoutes(http, { store, videos, tokens: playbackTokens, delivery: config.delivery });
      const address = await http.listen({ host: config.http.host, port: config.http.port });
      url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
      logger.info({ url }, 'HTTP server listening');
    }
    if (opts.role !== 'api') {
      worker = await startWorker({
        pool,
        registry,
        logger,
        concurrency: config.worker.concurrency,
        pollIntervalMs: config.worker.pollIntervalMs,
        shutdownTimeoutMs: config.shutdownTimeoutMs,
      });
      logger.info({ concurrency: config.worker.concurrency }, 'job worker running');
    }
    // On every role: delivery needs no worker, and the leader lock lets one node relay at a time, so
    // events keep flowing whichever nodes are up.
    opts.subscribe?.(events);
    await events.start();
    return { config, logger, database, accounts, videos, store, events, http, url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
