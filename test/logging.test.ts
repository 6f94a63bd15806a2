// What the logs say and in which shape: JSON lines for machines, readable lines for a person at a
// terminal, one line saying where Vireo runs, and no secret from a URL.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { createDatabase } from '../src/platform/db/database.ts';
import { migrate, readMigrations } from '../src/platform/db/migrator.ts';
import { createLogger, type LogFormat } from '../src/platform/observability/logger.ts';
import { api, startTestApp } from './helpers/app.ts';
import { serverUrl } from './helpers/database.ts';

/** A destination that keeps what is written to it. */
function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return {
    stream,
    text: () => text,
    lines: () => text.split('\n').filter((l) => l !== ''),
    json: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const isJson = (line: string) => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};

describe('the logger', () => {
  const cases: Array<[LogFormat, boolean, 'json' | 'pretty']> = [
    ['auto', false, 'json'],
    ['auto', true, 'pretty'],
    ['json', true, 'json'],
    ['json', false, 'json'],
    ['pretty', false, 'pretty'],
  ];
  for (const [format, isTty, expected] of cases) {
    it(`writes ${expected} lines for LOG_FORMAT=${format} ${isTty ? 'on' : 'off'} a terminal`, () => {
      const out = capture();
      const logger = createLogger('info', 'vireo', { format, isTty, destination: out.stream });
      logger.child({ area: 'vireo:db' }).info({ version: 3 }, 'something happened');
      const [line] = out.lines();
      assert.ok(line, 'a line was written');
      assert.equal(isJson(line), expected === 'json', line);
      assert.match(line, /something happened/);
      if (expected === 'pretty') {
        assert.match(line, /INFO/);
        assert.match(line, /vireo:db/);
        // Colours only for a terminal.
        assert.equal(line.includes('\u001b['), isTty, line);
      }
    });
  }
});

describe('request logs', () => {
  it('say once where Vireo is running, and keep tokens in URLs out', async () => {
    const out = capture();
    const t = await startTestApp(
      {},
      { logger: createLogger('info', 'vireo', { format: 'json', destination: out.stream }) },
    );
    try {
      const secret = randomBytes(30).toString('base64url');
      const id = uuidv7();
      await api(t, 'GET', `/media/videos/${id}/1/hls/master.m3u8?token=${secret}`);
      await api(t, 'GET', `/media/videos/${id}/1/hls/240p/seg-1.m4s?x=1&token=${secret}#t`);
      await api(t, 'GET', `/api/v1/videos/${id}?access_token=${secret}`);
      const jwt = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.${secret}`;
      await api(t, 'GET', `/api/v1/videos/${jwt}`);

      const lines = out.json();
      const running = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Vireo is running'));
      assert.equal(running.length, 1, JSON.stringify(running));
      assert.equal(running[0]!.msg, `Vireo is running at ${t.url}`);
      assert.equal(running[0]!.url, t.url);

      const urls = lines
        .filter((l) => l.msg === 'incoming request')
        .map((l) => (l.req as { url: string }).url)
        .filter((u) => u.includes(id) || u.includes('[redacted]'));
      assert.deepEqual(urls, [
        `/media/videos/${id}/1/hls/master.m3u8?token=[redacted]`,
        `/media/videos/${id}/1/hls/240p/seg-1.m4s?x=1&token=[redacted]`,
        `/api/v1/videos/${id}?access_token=[redacted]`,
        '/api/v1/videos/[redacted]',
      ]);
      assert.ok(!out.text().includes(secret), 'a token reached the log');
    } finally {
      await t.stop();
    }
  });
});

describe('migration logs', () => {
  it('name the migration under its own key, not the logger name', async () => {
    const name = `vireo_test_${process.env.VIREO_TEST_RUN}_log_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: process.env.VIREO_TEST_SERVER_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const database = createDatabase(serverUrl(name), 2);
    try {
      const out = capture();
      await migrate(
        database.pool,
        createLogger('info', 'vireo', { format: 'json', destination: out.stream }),
      );
      const applied = out.lines().filter((l) => l.includes('"migration applied"'));
      const migrations = await readMigrations();
      assert.equal(applied.length, migrations.length, out.text());
      for (const [i, line] of applied.entries()) {
        assert.equal(line.match(/"name":/g)?.length, 1, line);
        const parsed = JSON.parse(line);
        assert.equal(parsed.name, 'vireo');
        assert.equal(parsed.migration, migrations[i]!.name);
        assert.equal(parsed.version, migrations[i]!.version);
      }
    } finally {
      await database.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
