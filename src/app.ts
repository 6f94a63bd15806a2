// Composition root: builds the platform, then the modules (in the order of MODULES), and registers what
// each answers: routes, jobs, event subscribers; stops it all in order.
import type { Runner } from 'graphile-worker';
import { sql } from 'kysely';
import type { Config } from './config.ts';
import { type AccountsService, accountsModule } from './modules/accounts/index.ts';
import { adminModule } from './modules/admin/index.ts';
import { auditModule } from './modules/audit/index.ts';
import { channelsModule } from './modules/channels/index.ts';
import { collectionsModule } from './modules/collections/index.ts';
import { commentsModule } from './modules/comments/index.ts';
import { discoveryModule } from './modules/discovery/index.ts';
import { feedsModule } from './modules/feeds/index.ts';
import { likesModule } from './modules/likes/index.ts';
import { notificationsModule } from './modules/notifications/index.ts';
import { playbackModule } from './modules/playback/index.ts';
import { socialModule } from './modules/social/index.ts';
import { transcodingModule } from './modules/transcoding/index.ts';
import { trendingModule } from './modules/trending/index.ts';
import { uploadsModule } from './modules/uploads/index.ts';
import { type VideosService, videosModule } from './modules/videos/index.ts';
import { viewingModule } from './modules/viewing/index.ts';
import { viewsModule } from './modules/views/index.ts';
import { webhooksModule } from './modules/webhooks/index.ts';
import { createDatabase, type Database } from './platform/db/database.ts';
import { EmbeddedPostgres } from './platform/db/embedded-postgres.ts';
import { isMigrated, migrate, readMigrations } from './platform/db/migrator.ts';
import { sharedSecret } from './platform/db/secrets.ts';
import { createEventBus, type EventBus } from './platform/events/bus.ts';
import { registerOutboxMetrics } from './platform/events/lag.ts';
import { installAuthGuard } from './platform/http/auth-guard.ts';
import { healthRoutes } from './platform/http/health.ts';
import { IdempotencyStore, installIdempotency } from './platform/http/idempotency.ts';
import {
  type MetricsListener,
  metricsRoute,
  startMetricsListener,
} from './platform/http/metrics-endpoint.ts';
import { RateLimiter } from './platform/http/rate-limit.ts';
import { createHttpServer, type HttpServer } from './platform/http/server.ts';
import { type AnyJob, JobRegistry } from './platform/jobs/definition.ts';
import { sweepIdempotencyKeysJob, sweepRateLimitsJob } from './platform/jobs/platform-jobs.ts';
import { startWorker } from './platform/jobs/worker.ts';
import { configureMediaTools } from './platform/media/tools.ts';
import { type BuiltModule, buildModules } from './platform/modules/build-modules.ts';
import type { ModuleDefinition, ModuleServices } from './platform/modules/define-module.ts';
import { createLogger, type Logger } from './platform/observability/logger.ts';
import { createMetrics, registerPoolMetrics } from './platform/observability/metrics.ts';
import { NotifyHub } from './platform/realtime/notify-hub.ts';
import { createObjectStore } from './platform/storage/create-store.ts';
import type { ObjectStore } from './platform/storage/object-store.ts';
import { VERSION } from './version.ts';

/** Every module, in build order: a module may use the services of those before it. */
export const MODULES: ModuleDefinition[] = [
  accountsModule,
  auditModule,
  videosModule,
  channelsModule,
  uploadsModule,
  transcodingModule,
  playbackModule,
  viewsModule,
  discoveryModule,
  socialModule,
  commentsModule,
  likesModule,
  collectionsModule,
  viewingModule,
  notificationsModule,
  trendingModule,
  feedsModule,
  webhooksModule,
  adminModule,
];

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
  /** Every module's service, by module name. */
  services: ModuleServices;
  /** Every job this app knows, with its handler (whatever its role runs). */
  jobs: JobRegistry;
  events: EventBus;
  store: ObjectStore;
  http?: HttpServer;
  /** Base URL of the HTTP server, when this role serves HTTP. */
  url?: string;
  /** URL of /metrics on a listener of its own (METRICS_PORT). */
  metricsUrl?: string;
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
  const logger = opts.logger ?? createLogger(config.log.level, 'vireo', { format: config.log.format });
  const { database, url: databaseUrl, embedded } = await prepareDatabase(config, logger);
  const { db, pool } = database;
  let http: HttpServer | undefined;
  let worker: Runner | undefined;
  let metricsListener: MetricsListener | undefined;
  let modules: BuiltModule[] = [];
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
    await metricsListener?.close();
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
    // What modules keep open outside the pool (upload locks), once no request or job runs.
    for (const m of [...modules].reverse()) {
      await m.parts.stop?.().catch((err) => logger.error({ err, module: m.name }, 'module stop failed'));
    }
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
    const idempotency = new IdempotencyStore(db);
    const secret = config.auth.jwtSecret ?? (await sharedSecret(db, 'jwt_signing_key'));
    configureMediaTools({ ffmpeg: config.media.ffmpegPath, ffprobe: config.media.ffprobePath });
    const store = createObjectStore(config.storage);
    const metrics = createMetrics();
    registerPoolMetrics(metrics.registry, pool);
    registerOutboxMetrics(metrics.registry, db);

    const built = buildModules(
      MODULES,
      { config, db, databaseUrl, store, hub, events, secret, limiter, metrics },
      logger,
    );
    modules = built.modules;
    const { services } = built;
    const registry = new JobRegistry().add(
      sweepRateLimitsJob(limiter),
      sweepIdempotencyKeysJob(idempotency),
      ...modules.flatMap((m) => m.parts.jobs ?? []),
      ...(opts.jobs ?? []),
    );
    // A job that code may enqueue but nothing handles fails here, not when it first runs.
    registry.assertHandlesDeclared();
    for (const m of modules) {
      for (const s of m.parts.subscribers ?? []) {
        if (typeof s.event === 'string') events.subscribe(s.event, s.name, s.handler, s.options);
        else events.subscribe(s.event, s.name, s.handler, s.options);
      }
    }
    opts.subscribe?.(events);
    for (const m of modules) await m.parts.start?.();

    let url: string | undefined;
    metricsListener = await startMetricsListener(metrics, config.metrics, logger);
    if (opts.role !== 'worker') {
      http = await createHttpServer({
        logger,
        metrics,
        trustProxy: config.http.trustProxy,
        version: VERSION,
      });
      installAuthGuard(http, services.accounts.authenticate);
      installIdempotency(http, idempotency);
      const migrations = await readMigrations();
      healthRoutes(http, {
        database: async () => {
          await sql`select 1`.execute(db);
          return true;
        },
        migrations: () => isMigrated(pool, migrations),
      });
      metricsRoute(http, metrics, config.metrics);
      await hub.start();
      for (const m of modules) m.parts.routes?.(http);
      const address = await http.listen({ host: config.http.host, port: config.http.port });
      url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
    }
    // Every role relays: one node at a time does (a leader lock), and any can take over.
    await events.start();
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
    // The one line a person starting Vireo looks for, once everything is up.
    if (url) logger.info({ url }, `Vireo is running at ${url}`);
    const metricsUrl = metricsListener?.url;
    return {
      config,
      logger,
      database,
      accounts: services.accounts,
      videos: services.videos,
      services,
      jobs: registry,
      events,
      store,
      http,
      url,
      metricsUrl,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
