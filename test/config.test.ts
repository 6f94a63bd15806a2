import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

/** The ConfigError that loading `env` throws. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    assert.deepEqual(c.http, { host: '0.0.0.0', port: 8080, trustProxy: false });
    assert.equal(c.dataDir, path.resolve('./data'));
    assert.equal(c.databaseUrl, undefined);
    assert.deepEqual(c.embeddedPostgres, {
      port: 54329,
      dataDir: path.join(path.resolve('./data'), 'postgres'),
    });
    assert.deepEqual(c.db, { poolMax: 10 });
    assert.deepEqual(c.log, { level: 'info', format: 'auto' });
    // /metrics is served nowhere until a token or a listener of its own is set.
    assert.deepEqual(c.metrics, { token: undefined, listen: undefined });
    assert.deepEqual(c.auth, {
      jwtSecret: undefined,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 2_592_000,
      playbackTokenTtlSeconds: 21_600,
    });
    assert.equal(c.admin, undefined);
    assert.deepEqual(c.rateLimit, {
      windowSeconds: 60,
      loginPerIp: 30,
      loginPerAccount: 10,
      loginBackoffAfter: 20,
      loginBackoffMaxSeconds: 900,
      registerPerIp: 10,
    });
    assert.deepEqual(c.worker, { concurrency: 2, pollIntervalMs: 2000 });
    assert.equal(c.shutdownTimeoutMs, 10_000);
  });

  it('reads and converts every kind of value', () => {
    const c = loadConfig({
      HOST: '127.0.0.1',
      PORT: '3000',
      DATA_DIR: '/srv/vireo',
      DATABASE_URL: 'postgresql://u:p@db:5432/vireo',
      TRUST_PROXY: 'yes',
      LOG_LEVEL: 'debug',
      JWT_SECRET: 'x'.repeat(32),
      WORKER_CONCURRENCY: '8',
    });
    assert.deepEqual(c.http, { host: '127.0.0.1', port: 3000, trustProxy: true });
    assert.equal(c.dataDir, '/srv/vireo');
    assert.equal(c.embeddedPostgres.dataDir, '/srv/vireo/postgres');
    assert.equal(c.databaseUrl, 'postgresql://u:p@db:5432/vireo');
    assert.equal(c.log.level, 'debug');
    assert.equal(c.auth.jwtSecret, 'x'.repeat(32));
    assert.equal(c.worker.concurrency, 8);
    assert.equal(loadConfig({ TRUST_PROXY: '0' }).http.trustProxy, false);
  });

  it('refuses a bad value with one line that names the variable', () => {
    const cases: Array<[string, string]> = [
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '80.5'],
      ['PORT', '0x50'],
      ['PORT', '1e3'],
      ['PORT', '   '],
      ['DB_POOL_MAX', '0'],
      ['LOG_LEVEL', 'verbose'],
      ['TRUST_PROXY', 'maybe'],
      ['DATABASE_URL', 'mysql://localhost/vireo'],
      ['ADMIN_USERNAME', 'no spaces please'],
      ['SHUTDOWN_TIMEOUT_MS', '-1'],
      ['LOG_FORMAT', 'yaml'],
      ['METRICS_PORT', '70000'],
      ['METRICS_TOKEN', 'short'],
      ['LOGIN_BACKOFF_AFTER_FAILURES', '0'],
      ['LOGIN_BACKOFF_MAX_SECONDS', '86401'],
    ];
    for (const [name, value] of cases) {
      const err = configError({ [name]: value });
      assert.match(err.message, new RegExp(`\\b${name}\\b`), `${name}=${value}: ${err.message}`);
      assert.ok(!err.message.includes('\n'), `${name}=${value} gives more than one line: ${err.message}`);
    }
  });

  it('never repeats a secret in the error', () => {
    const cases: Array<[string, string]> = [
      ['JWT_SECRET', 'too-short-but-secret'],
      ['DATABASE_URL', 'mysql://root:hunter2hunter2@db/vireo'],
      ['METRICS_TOKEN', 'short-secret'],
    ];
    for (const [name, value] of cases) {
      const err = configError({ [name]: value });
      assert.match(err.message, new RegExp(`\\b${name}\\b`));
      assert.ok(!err.message.includes(value), err.message);
    }
    const err = configError({ ADMIN_EMAIL: 'root@example.test', ADMIN_PASSWORD: 'short' });
    assert.match(err.message, /\bADMIN_PASSWORD\b/);
    assert.ok(!err.message.includes('"short"'), err.message);
  });

  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    const halves: Array<Record<string, string>> = [
      { ADMIN_EMAIL: 'root@example.test' },
      { ADMIN_PASSWORD: 'long enough password' },
    ];
    for (const env of halves) {
      const err = configError(env);
      assert.match(err.message, /ADMIN_EMAIL/);
      assert.match(err.message, /ADMIN_PASSWORD/);
      assert.ok(!err.message.includes('\n'));
    }
    const c = loadConfig({ ADMIN_EMAIL: 'root@example.test', ADMIN_PASSWORD: 'long enough password' });
    assert.deepEqual(c.admin, {
      email: 'root@example.test',
      password: 'long enough password',
      username: 'admin',
    });
  });

  it('counts empty strings as unset', () => {
    const c = loadConfig({
      PORT: '',
      DATABASE_URL: '',
      JWT_SECRET: '',
      LOG_LEVEL: '',
      ADMIN_EMAIL: '',
      ADMIN_PASSWORD: '',
    });
    assert.equal(c.http.port, 8080);
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.auth.jwtSecret, undefined);
    assert.equal(c.log.level, 'info');
    assert.equal(c.admin, undefined);
    // One of the pair empty is the same as one of the pair missing.
    assert.throws(() => loadConfig({ ADMIN_EMAIL: 'root@example.test', ADMIN_PASSWORD: '' }), ConfigError);
  });

  it('reads S3 storage and media delivery, and wants the bucket and credentials with the s3 driver', () => {
    const fsDefault = loadConfig({});
    assert.deepEqual(fsDefault.storage, { driver: 'fs', dir: path.resolve('./data/storage') });
    assert.deepEqual(fsDefault.delivery, { mode: 'proxy', redirectTtlSeconds: 300 });
    const s3 = {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'media',
      S3_ACCESS_KEY_ID: 'key-id',
      S3_SECRET_ACCESS_KEY: 'hunter2hunter2',
    };
    assert.deepEqual(loadConfig(s3).storage, {
      driver: 's3',
      s3: {
        endpoint: undefined,
        region: 'us-east-1',
        bucket: 'media',
        credentials: { accessKeyId: 'key-id', secretAccessKey: 'hunter2hunter2' },
        forcePathStyle: true,
        prefix: undefined,
      },
    });
    const full = loadConfig({
      ...s3,
      S3_ENDPOINT: 'https://s3.example.test',
      S3_REGION: 'eu-west-3',
      S3_FORCE_PATH_STYLE: 'false',
      S3_PREFIX: 'sites/vireo',
      MEDIA_DELIVERY: 'redirect',
      MEDIA_REDIRECT_TTL_SECONDS: '600',
    });
    assert.ok(full.storage.driver === 's3');
    assert.equal(full.storage.s3.endpoint, 'https://s3.example.test');
    assert.equal(full.storage.s3.region, 'eu-west-3');
    assert.equal(full.storage.s3.forcePathStyle, false);
    assert.equal(full.storage.s3.prefix, 'sites/vireo/');
    assert.deepEqual(full.delivery, { mode: 'redirect', redirectTtlSeconds: 600 });

    for (const name of ['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) {
      const err = configError({ ...s3, [name]: '' });
      assert.match(err.message, new RegExp(`\\b${name}\\b`));
      assert.match(err.message, /STORAGE_DRIVER/);
      assert.ok(!err.message.includes('\n'));
    }
    const bad: Array<[string, string]> = [
      ['STORAGE_DRIVER', 'gcs'],
      ['S3_ENDPOINT', 'ftp://files.example.test'],
      ['S3_ENDPOINT', 'not a url'],
      ['S3_BUCKET', 'a/b'],
      ['S3_FORCE_PATH_STYLE', 'sometimes'],
      ['S3_PREFIX', '/absolute'],
      ['S3_PREFIX', 'a/../b'],
      ['S3_PREFIX', 'a//b'],
      ['MEDIA_DELIVERY', 'cdn'],
      ['MEDIA_REDIRECT_TTL_SECONDS', '5'],
    ];
    for (const [name, value] of bad) {
      assert.match(
        configError({ ...s3, [name]: value }).message,
        new RegExp(`\\b${name}\\b`),
        `${name}=${value}`,
      );
    }
  });

  it('limits uploads by default: 10 GiB quota, 10 unfinished uploads, a free-space floor', () => {
    const { uploads } = loadConfig({});
    assert.equal(uploads.quotaBytes, 10 * 1024 ** 3);
    assert.equal(uploads.maxBytes, 8 * 1024 ** 3);
    assert.equal(uploads.maxUnfinished, 10);
    assert.equal(uploads.minFreeBytes, 1024 ** 3);
    assert.equal(uploads.minFreePercent, 5);
    const set = loadConfig({
      UPLOAD_QUOTA_BYTES: '1000',
      UPLOAD_MAX_UNFINISHED: '3',
      UPLOAD_MIN_FREE_BYTES: '0',
      UPLOAD_MIN_FREE_PERCENT: '100',
    }).uploads;
    assert.deepEqual(
      [set.quotaBytes, set.maxUnfinished, set.minFreeBytes, set.minFreePercent],
      [1000, 3, 0, 100],
    );
    for (const [name, value] of [
      ['UPLOAD_MAX_UNFINISHED', '0'],
      ['UPLOAD_MIN_FREE_PERCENT', '101'],
      ['UPLOAD_MIN_FREE_BYTES', '-1'],
    ] as const) {
      assert.match(configError({ [name]: value }).message, new RegExp(`\\b${name}\\b`));
    }
  });

  it('reads the log format and who may read /metrics', () => {
    for (const format of ['auto', 'pretty', 'json'] as const) {
      assert.equal(loadConfig({ LOG_FORMAT: format }).log.format, format);
    }
    const token = 'a-metrics-scraper-token';
    assert.deepEqual(loadConfig({ METRICS_TOKEN: token }).metrics, { token, listen: undefined });
    assert.deepEqual(loadConfig({ METRICS_PORT: '9464' }).metrics, {
      token: undefined,
      listen: { host: '127.0.0.1', port: 9464 },
    });
    assert.deepEqual(
      loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0', METRICS_TOKEN: token }).metrics,
      {
        token,
        listen: { host: '0.0.0.0', port: 9464 },
      },
    );
  });

  it('reads the sign-in backoff', () => {
    const c = loadConfig({ LOGIN_BACKOFF_AFTER_FAILURES: '5', LOGIN_BACKOFF_MAX_SECONDS: '60' });
    assert.equal(c.rateLimit.loginBackoffAfter, 5);
    assert.equal(c.rateLimit.loginBackoffMaxSeconds, 60);
  });

  it('reads the outbox settings, with NATS only when NATS_URL is set', () => {
    assert.deepEqual(loadConfig({}).events, { retentionHours: 72, pollIntervalMs: 1000, nats: undefined });
    const c = loadConfig({
      NATS_URL: 'nats://a:4222, nats://b:4222',
      NATS_SUBJECT_PREFIX: 'site1',
      OUTBOX_RETENTION_HOURS: '0',
      OUTBOX_POLL_INTERVAL_MS: '250',
    });
    assert.deepEqual(c.events, {
      retentionHours: 0,
      pollIntervalMs: 250,
      nats: { url: 'nats://a:4222, nats://b:4222', stream: 'VIREO_EVENTS', subjectPrefix: 'site1' },
    });
    for (const [name, value] of [
      ['NATS_URL', 'http://nats:4222'],
      ['NATS_STREAM', 'has.dots'],
      ['NATS_SUBJECT_PREFIX', 'ends.with.'],
      ['OUTBOX_RETENTION_HOURS', '-1'],
      ['OUTBOX_POLL_INTERVAL_MS', '10'],
    ] as const) {
      assert.match(configError({ [name]: value }).message, new RegExp(`\\b${name}\\b`), `${name}=${value}`);
    }
    const err = configError({ NATS_URL: 'nats://user:hunter2@nats:4222 x' });
    assert.ok(!err.message.includes('hunter2'), err.message);
  });

  it('ignores variables it does not know', () => {
    assert.equal(loadConfig({ PATH: '/usr/bin', SOMETHING_ELSE: 'x' }).http.port, 8080);
  });
});
