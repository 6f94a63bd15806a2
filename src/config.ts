// Every setting Vireo reads, validated once at boot. Nothing else reads process.env.
// Three steps: raw env → typed values with defaults → cross-field checks.
import path from 'node:path';
import { z } from 'zod';

// Whole decimal numbers only: Number() would also take "0x50", "1e3", or "  " as 0.
const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** The environment variables, their types and defaults. docs/configuration.md documents each. */
export const configSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(8080),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  EMBEDDED_PG_PORT: int(1, 65535).default(54329),
  DB_POOL_MAX: int(1, 200).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: int(0, 65535).optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(900),
  REFRESH_TOKEN_TTL_SECONDS: int(3600, 31_536_000).default(2_592_000),
  PLAYBACK_TOKEN_TTL_SECONDS: int(60, 604_800).default(21_600),
  ADMIN_EMAIL: z.email('must be an email address').optional(),
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  ADMIN_USERNAME: z
    .string()
    .regex(/^[a-z0-9_]{3,32}$/i, 'must be 3-32 letters, digits or _')
    .default('admin'),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400).default(60),
  LOGIN_LIMIT_PER_IP: int(1, 1_000_000).default(30),
  LOGIN_LIMIT_PER_ACCOUNT: int(1, 1_000_000).default(10),
  LOGIN_BACKOFF_AFTER_FAILURES: int(1, 1_000_000).default(20),
  LOGIN_BACKOFF_MAX_SECONDS: int(1, 86_400).default(900),
  REGISTER_LIMIT_PER_IP: int(1, 1_000_000).default(10),
  COMMENTS_RATE_LIMIT_PER_MINUTE: int(1, 1_000_000).default(10),
  TRUST_PROXY: bool.default(false),
  WORKER_CONCURRENCY: int(1, 64).default(2),
  WORKER_POLL_INTERVAL_MS: int(50, 60_000).default(2000),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  STORAGE_DRIVER: z.enum(['fs', 's3']).default('fs'),
  S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/, 'must be a bucket name: letters, digits, ".", "_" and "-"')
    .optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool.default(true),
  S3_PREFIX: z
    .string()
    .regex(
      /^(?!\.{1,2}(\/|$))[\w.!*'()-]+(\/(?!\.{1,2}(\/|$))[\w.!*'()-]+)*\/?$/,
      "must be a folder path such as vireo/ or media/vireo/ (letters, digits and _.!*'()- between slashes)",
    )
    .optional(),
  MEDIA_DELIVERY: z.enum(['proxy', 'redirect']).default('proxy'),
  MEDIA_REDIRECT_TTL_SECONDS: int(10, 302_400).default(300),
  STORAGE_DIR: z.string().min(1).optional(),
  UPLOAD_DIR: z.string().min(1).optional(),
  UPLOAD_MAX_BYTES: int(1, Number.MAX_SAFE_INTEGER).default(8 * 1024 ** 3),
  UPLOAD_QUOTA_BYTES: int(0, Number.MAX_SAFE_INTEGER).default(10 * 1024 ** 3),
  UPLOAD_MAX_UNFINISHED: int(1, 10_000).default(10),
  UPLOAD_MIN_FREE_BYTES: int(0, Number.MAX_SAFE_INTEGER).default(1024 ** 3),
  UPLOAD_MIN_FREE_PERCENT: int(0, 100).default(5),
  UPLOAD_EXPIRY_SECONDS: int(60, 30 * 86_400).default(86_400),
  UPLOAD_LOCK_TIMEOUT_MS: int(100, 300_000).default(30_000),
  MAX_VIDEO_DURATION_SECONDS: int(1, 86_400).default(6 * 3600),
  LADDER_RUNGS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be a comma-separated list of heights, e.g. 240,360,720')
    .default('240,360,480,720,1080,1440,2160'),
  SEGMENT_SECONDS: int(1, 10).default(2),
  ENCODE_PRESET: z
    .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
    .default('veryfast'),
  ENCODE_CRF: int(0, 51).default(23),
  FFMPEG_PATH: z.string().min(1).optional(),
  FFPROBE_PATH: z.string().min(1).optional(),
  WORK_DIR: z.string().min(1).optional(),
  NATS_URL: z
    .string()
    .regex(
      /^(nats|tls):\/\/[^\s,]+(\s*,\s*(nats|tls):\/\/[^\s,]+)*$/,
      'must be a nats:// URL, or several separated by commas',
    )
    .optional(),
  NATS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a stream name: letters, digits, "_" and "-"')
    .default('VIREO_EVENTS'),
  NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be subject tokens separated by dots, e.g. site1')
    .optional(),
  OUTBOX_RETENTION_HOURS: int(0, 8760).default(72),
  OUTBOX_POLL_INTERVAL_MS: int(50, 60_000).default(1000),
  VIEWS_FLUSH_INTERVAL_MS: int(50, 600_000).default(2000),
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  WEBHOOK_RETRY_BASE_MS: int(10, 3_600_000).default(30_000),
  SEARCH_CACHE_TTL_MS: int(0, 600_000).default(30_000),
  RECOMMENDATIONS_CACHE_TTL_MS: int(0, 600_000).default(30_000),
  NOTIFICATIONS_FANOUT_BATCH: int(1, 100_000).default(5000),
  NOTIFICATIONS_HEARTBEAT_MS: int(100, 300_000).default(15_000),
  WEB_PUSH_VAPID_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{87}$/, 'must be a P-256 public key in base64url (87 characters)')
    .optional(),
  WEB_PUSH_VAPID_PRIVATE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a P-256 private key in base64url (43 characters)')
    .optional(),
  WEB_PUSH_SUBJECT: z
    .string()
    .regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, 'must be a mailto: or https:// URL')
    .optional(),
  WEB_PUSH_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  COLLECTION_MAX_ITEMS: int(1, 100_000).default(5000),
  COLLECTIONS_PER_USER_MAX: int(1, 100_000).default(200),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
    .optional(),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  http: { host: string; port: number; trustProxy: boolean };
  dataDir: string;
  /** Absent: Vireo starts its own PostgreSQL under dataDir/postgres. */
  databaseUrl?: string;
  embeddedPostgres: { port: number; dataDir: string };
  db: { poolMax: number };
  log: {
    level: RawConfig['LOG_LEVEL'];
    /** `auto`: human-readable lines when standard output is a terminal, JSON lines otherwise. */
    format: RawConfig['LOG_FORMAT'];
  };
  /**
   * Who may read /metrics. `listen`: on a listener of its own, and not on the API's; else on the API's
   * listener, only with `token`; with neither, nowhere.
   */
  metrics: { token?: string; listen?: { host: string; port: number } };
  auth: {
    /** Absent: a random secret is generated once and kept in the database, shared by every node. */
    jwtSecret?: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    /** Lifetime of the tokens on media URLs of videos that are not public. */
    playbackTokenTtlSeconds: number;
  };
  admin?: { email: string; password: string; username: string };
  rateLimit: RateLimits;
  /** Comments (and replies) one account may write per minute. */
  comments: { ratePerMinute: number };
  worker: { concurrency: number; pollIntervalMs: number };
  shutdownTimeoutMs: number;
  storage: { driver: 'fs'; dir: string } | { driver: 's3'; s3: S3StorageConfig };
  /** How media files that never change reach players: served by Vireo, or by redirect to the store. */
  delivery: { mode: 'proxy' | 'redirect'; redirectTtlSeconds: number };
  uploads: {
    dir: string;
    maxBytes: number;
    quotaBytes: number;
    /** Uploads one user may have unfinished at a time. */
    maxUnfinished: number;
    /** Free space a new upload must leave on the upload folder's disk: the larger of the two. */
    minFreeBytes: number;
    minFreePercent: number;
    expirySeconds: number;
    /** How long a request waits for another request writing the same upload. */
    lockTimeoutMs: number;
  };
  media: {
    maxDurationSeconds: number;
    rungs: number[];
    segmentSeconds: number;
    preset: string;
    crf: number;
    /** Absent: ffmpeg/ffprobe on PATH, else the binaries shipped in npm packages. */
    ffmpegPath?: string;
    ffprobePath?: string;
    /** Scratch space of processing runs; each run works in a folder of its own under it. */
    workDir: string;
  };
  events: {
    /** Delivered events are kept this long. */
    retentionHours: number;
    /** How often the relay looks for events without being woken, and a standby node tries to relay. */
    pollIntervalMs: number;
    /** Absent: events stay in PostgreSQL only. */
    nats?: { url: string; stream: string; subjectPrefix?: string };
  };
  /** How often each node writes the views it holds. */
  views: { flushIntervalMs: number };
  webhooks: {
    /** Lets endpoints sit on loopback, private and link-local addresses (off: no SSRF through webhooks). */
    allowPrivateNetworks: boolean;
    /** The first retry's delay; later ones grow from it (×4, ×20, ×120…) until 24 h after the event. */
    retryBaseMs: number;
  };
  /** Absent: the recommendation cache lives in each process only. */
  redisUrl?: string;
  /** How long a node answers a repeated search from memory (0: never); catalog changes empty it. */
  searchCacheTtlMs: number;
  /** How long a node keeps a viewer's recommendation candidates (ids; each answer checks them again). */
  recommendationsCacheTtlMs: number;
  notifications: {
    /** Recipients per insert statement of a fan-out (a new video to its channel's members). */
    fanOutBatch: number;
    /** How often a live stream writes a heartbeat and checks its account again. */
    heartbeatMs: number;
    webPush: {
      /** Absent: a key pair generated once and kept with the platform secrets. */
      vapid?: { publicKey: string; privateKey: string };
      /** Who push services may contact about our messages (VAPID `sub`). */
      subject: string;
      /** Lets push endpoints sit on loopback, private and link-local addresses (off: no SSRF). */
      allowPrivateNetworks: boolean;
    };
  };
  /** Playlists: videos per collection, and collections per user (Watch later included). */
  collections: { maxItems: number; maxPerUser: number };
}

export interface RateLimits {
  windowSeconds: number;
  /** Sign-in attempts from one address. */
  loginPerIp: number;
  /** Failed sign-ins on one account from one address; also failed current-password checks per account. */
  loginPerAccount: number;
  /** Failed sign-ins on one account, from anywhere, before addresses it has no session from must wait. */
  loginBackoffAfter: number;
  loginBackoffMaxSeconds: number;
  registerPerIp: number;
}

export interface S3StorageConfig {
  /** Absent: AWS S3 of the region. */
  endpoint?: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
  /** Ends with `/`; absent: the bucket's root. */
  prefix?: string;
}

export class ConfigError extends Error {}

/** Values never repeated in an error: it reaches terminals and log collectors. */
const SECRETS = new Set([
  'JWT_SECRET',
  'ADMIN_PASSWORD',
  'DATABASE_URL',
  'S3_SECRET_ACCESS_KEY',
  'METRICS_TOKEN',
  'NATS_URL',
  'REDIS_URL',
  'WEB_PUSH_VAPID_PRIVATE_KEY',
]);

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as they do in most .env files.
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    const got = SECRETS.has(name) ? 'value not shown' : `got ${JSON.stringify(raw[name])}`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message} (${got})`);
  }
  const c = parsed.data;
  if ((c.ADMIN_EMAIL === undefined) !== (c.ADMIN_PASSWORD === undefined)) {
    throw new ConfigError('Invalid configuration: ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if ((c.WEB_PUSH_VAPID_PUBLIC_KEY === undefined) !== (c.WEB_PUSH_VAPID_PRIVATE_KEY === undefined)) {
    throw new ConfigError(
      'Invalid configuration: WEB_PUSH_VAPID_PUBLIC_KEY and WEB_PUSH_VAPID_PRIVATE_KEY must be set together',
    );
  }
  const dataDir = path.resolve(c.DATA_DIR);
  return {
    http: { host: c.HOST, port: c.PORT, trustProxy: c.TRUST_PROXY },
    dataDir,
    databaseUrl: c.DATABASE_URL,
    embeddedPostgres: { port: c.EMBEDDED_PG_PORT, dataDir: path.join(dataDir, 'postgres') },
    db: { poolMax: c.DB_POOL_MAX },
    log: { level: c.LOG_LEVEL, format: c.LOG_FORMAT },
    metrics: {
      token: c.METRICS_TOKEN,
      listen: c.METRICS_PORT === undefined ? undefined : { host: c.METRICS_HOST, port: c.METRICS_PORT },
    },
    auth: {
      jwtSecret: c.JWT_SECRET,
      accessTokenTtlSeconds: c.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: c.REFRESH_TOKEN_TTL_SECONDS,
      playbackTokenTtlSeconds: c.PLAYBACK_TOKEN_TTL_SECONDS,
    },
    admin:
      c.ADMIN_EMAIL && c.ADMIN_PASSWORD
        ? { email: c.ADMIN_EMAIL, password: c.ADMIN_PASSWORD, username: c.ADMIN_USERNAME }
        : undefined,
    rateLimit: {
      windowSeconds: c.RATE_LIMIT_WINDOW_SECONDS,
      loginPerIp: c.LOGIN_LIMIT_PER_IP,
      loginPerAccount: c.LOGIN_LIMIT_PER_ACCOUNT,
      loginBackoffAfter: c.LOGIN_BACKOFF_AFTER_FAILURES,
      loginBackoffMaxSeconds: c.LOGIN_BACKOFF_MAX_SECONDS,
      registerPerIp: c.REGISTER_LIMIT_PER_IP,
    },
    comments: { ratePerMinute: c.COMMENTS_RATE_LIMIT_PER_MINUTE },
    worker: { concurrency: c.WORKER_CONCURRENCY, pollIntervalMs: c.WORKER_POLL_INTERVAL_MS },
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    storage:
      c.STORAGE_DRIVER === 's3'
        ? { driver: 's3', s3: s3Storage(c) }
        : { driver: 'fs', dir: path.resolve(c.STORAGE_DIR ?? path.join(dataDir, 'storage')) },
    delivery: { mode: c.MEDIA_DELIVERY, redirectTtlSeconds: c.MEDIA_REDIRECT_TTL_SECONDS },
    uploads: {
      dir: path.resolve(c.UPLOAD_DIR ?? path.join(dataDir, 'uploads')),
      maxBytes: c.UPLOAD_MAX_BYTES,
      quotaBytes: c.UPLOAD_QUOTA_BYTES,
      maxUnfinished: c.UPLOAD_MAX_UNFINISHED,
      minFreeBytes: c.UPLOAD_MIN_FREE_BYTES,
      minFreePercent: c.UPLOAD_MIN_FREE_PERCENT,
      expirySeconds: c.UPLOAD_EXPIRY_SECONDS,
      lockTimeoutMs: c.UPLOAD_LOCK_TIMEOUT_MS,
    },
    media: {
      maxDurationSeconds: c.MAX_VIDEO_DURATION_SECONDS,
      rungs: c.LADDER_RUNGS.split(',').map(Number),
      segmentSeconds: c.SEGMENT_SECONDS,
      preset: c.ENCODE_PRESET,
      crf: c.ENCODE_CRF,
      ffmpegPath: c.FFMPEG_PATH,
      ffprobePath: c.FFPROBE_PATH,
      workDir: path.resolve(c.WORK_DIR ?? path.join(dataDir, 'work')),
    },
    events: {
      retentionHours: c.OUTBOX_RETENTION_HOURS,
      pollIntervalMs: c.OUTBOX_POLL_INTERVAL_MS,
      nats: c.NATS_URL
        ? { url: c.NATS_URL, stream: c.NATS_STREAM, subjectPrefix: c.NATS_SUBJECT_PREFIX }
        : undefined,
    },
    views: { flushIntervalMs: c.VIEWS_FLUSH_INTERVAL_MS },
    webhooks: {
      allowPrivateNetworks: c.WEBHOOKS_ALLOW_PRIVATE_NETWORKS,
      retryBaseMs: c.WEBHOOK_RETRY_BASE_MS,
    },
    redisUrl: c.REDIS_URL,
    searchCacheTtlMs: c.SEARCH_CACHE_TTL_MS,
    recommendationsCacheTtlMs: c.RECOMMENDATIONS_CACHE_TTL_MS,
    notifications: {
      fanOutBatch: c.NOTIFICATIONS_FANOUT_BATCH,
      heartbeatMs: c.NOTIFICATIONS_HEARTBEAT_MS,
      webPush: {
        vapid:
          c.WEB_PUSH_VAPID_PUBLIC_KEY && c.WEB_PUSH_VAPID_PRIVATE_KEY
            ? { publicKey: c.WEB_PUSH_VAPID_PUBLIC_KEY, privateKey: c.WEB_PUSH_VAPID_PRIVATE_KEY }
            : undefined,
        subject: c.WEB_PUSH_SUBJECT ?? (c.ADMIN_EMAIL ? `mailto:${c.ADMIN_EMAIL}` : 'mailto:admin@localhost'),
        allowPrivateNetworks: c.WEB_PUSH_ALLOW_PRIVATE_NETWORKS,
      },
    },
    collections: { maxItems: c.COLLECTION_MAX_ITEMS, maxPerUser: c.COLLECTIONS_PER_USER_MAX },
  };
}

function s3Storage(c: RawConfig): S3StorageConfig {
  const required = {
    S3_BUCKET: c.S3_BUCKET,
    S3_ACCESS_KEY_ID: c.S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY: c.S3_SECRET_ACCESS_KEY,
  };
  const missing = Object.entries(required).find(([, value]) => value === undefined);
  if (missing)
    throw new ConfigError(`Invalid configuration: ${missing[0]} must be set when STORAGE_DRIVER is s3`);
  return {
    endpoint: c.S3_ENDPOINT,
    region: c.S3_REGION,
    bucket: c.S3_BUCKET!,
    credentials: { accessKeyId: c.S3_ACCESS_KEY_ID!, secretAccessKey: c.S3_SECRET_ACCESS_KEY! },
    forcePathStyle: c.S3_FORCE_PATH_STYLE,
    prefix: c.S3_PREFIX && (c.S3_PREFIX.endsWith('/') ? c.S3_PREFIX : `${c.S3_PREFIX}/`),
  };
}
