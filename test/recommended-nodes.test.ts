// Two nodes sharing PostgreSQL and Redis: a change made through one leaves the recommendations of both,
// and of Redis, as soon as its event is relayed; with Redis gone, recommendations come from PostgreSQL.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { insertVideo, unpublish } from './helpers/discovery-rows.ts';
import { TEST_JWT_SECRET } from './helpers/tokens.ts';
import { waitFor } from './helpers/wait.ts';

const REDIS_SERVER = '/usr/bin/redis-server';
const ADMIN = { username: 'nodesadmin', email: 'nodes@example.test', password: 'the admin password' };

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('recommendations on two nodes with Redis', {
  skip: !existsSync(REDIS_SERVER) && 'no redis-server',
}, () => {
  let redisProcess: ChildProcess;
  let redis: Redis;
  let a: TestApp;
  let b: TestApp;
  let session: string;
  let creatorId: string;
  const jazz: string[] = [];

  before(async () => {
    const port = await freePort();
    redisProcess = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const accepts = () =>
      new Promise<boolean | undefined>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => resolve(socket.end() && true));
        socket.once('error', () => resolve(undefined));
      });
    await waitFor('redis to start', accepts, 15_000);
    redis = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    await redis.ping();
    const env = {
      JWT_SECRET: TEST_JWT_SECRET,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_USERNAME: ADMIN.username,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      OUTBOX_POLL_INTERVAL_MS: '100',
    };
    a = await startTestApp(env, { role: 'api' });
    b = await startTestApp(env, { role: 'api' }, { database: a.db });
    const login = await api(a, 'POST', '/api/v1/auth/login', {
      body: { username: ADMIN.username, password: ADMIN.password },
    });
    const tag = await api(a, 'POST', '/api/v1/admin/tags', {
      token: login.body.access_token,
      body: { name: 'jazz' },
    });
    creatorId = (await registerUser(a)).id;
    for (const title of ['Jazz one', 'Jazz two'])
      jazz.push(await insertVideo(a, creatorId, { title, tags: ['jazz'] }));
    session = randomBytes(16).toString('hex');
    const put = await api(a, 'PUT', '/api/v1/tags/my', {
      body: { session_id: session, tag_ids: [tag.body.id] },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
  });
  after(async () => {
    redis?.disconnect();
    await b?.stop({ keepDatabase: true });
    await a?.stop();
    redisProcess?.kill();
  });

  const titles = async (node: TestApp) => {
    const res = await api(node, 'GET', `/api/v1/videos/recommended?session_id=${session}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.items as { id: string; title: string }[]).map((v) => v.title).sort();
  };

  it('one node fills Redis, the other reads it from there', async () => {
    assert.deepEqual(await titles(a), ['Jazz one', 'Jazz two']);
    await waitFor(
      'the list in Redis',
      async () => (await redis.get('vireo:rec:tag:jazz')) ?? undefined,
      2000,
    );
    // Renamed behind the catalog's back: node B, which never read the list, answers what Redis holds.
    await sql`update videos set title = 'Jazz renamed' where id = ${jazz[0]}`.execute(a.app.database.db);
    assert.deepEqual(await titles(b), ['Jazz one', 'Jazz two']);
  });

  it('an unpublished video leaves both nodes and Redis', async () => {
    await unpublish(a, jazz[1]!, creatorId);
    for (const node of [a, b]) {
      await waitFor(
        'the unpublished video to leave',
        async () => !(await titles(node)).includes('Jazz two'),
        2000,
      );
    }
    // Both read the list again, as it is now.
    assert.deepEqual(await titles(a), ['Jazz renamed']);
    assert.deepEqual(await titles(b), ['Jazz renamed']);
    assert.equal(await redis.sismember(`vireo:rec:in:${jazz[1]}`, 'tag:jazz'), 0);
  });

  it('answers from PostgreSQL when Redis is gone', async () => {
    redis.disconnect();
    redisProcess.kill();
    await new Promise((r) => redisProcess.once('exit', r));
    // The list is dropped and read again: from PostgreSQL, and at once (no request waits on Redis).
    await unpublish(a, jazz[0]!, creatorId);
    await waitFor('the list to empty', async () => (await titles(b)).length === 0, 3000);
    const started = Date.now();
    assert.deepEqual(await titles(a), []);
    // A request never waits on Redis (no offline queue): well under the 30 s a reconnect could take.
    assert.ok(Date.now() - started < 1000, 'no wait for Redis');
  });
});
