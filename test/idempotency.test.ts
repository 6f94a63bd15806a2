// Idempotency-Key on POST creates, through HTTP: a repeat with the same key and body gets the first
// answer (and says so), another body under the key is refused, a key still in use answers 409, keys
// belong to their caller, and expired keys are swept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import { z } from 'zod';
import {
  callerScope,
  IdempotencyStore,
  installIdempotency,
  requestHash,
} from '../src/platform/http/idempotency.ts';
import { createHttpServer, type HttpServer } from '../src/platform/http/server.ts';
import { createMetrics } from '../src/platform/observability/metrics.ts';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', REGISTER_LIMIT_PER_IP: '1000' });
});
after(() => t.stop());

const PATH = '/api/v1/webhooks/endpoints';
const create = (token: string, key: string | undefined, body: unknown) =>
  api(t, 'POST', PATH, { token, body, headers: key === undefined ? {} : { 'idempotency-key': key } });
const endpointsOf = async (token: string) =>
  (await api(t, 'GET', PATH, { token })).body.items as Array<{ id: string }>;
const body = (n: number) => ({ url: `http://127.0.0.1:9/hook/${n}`, event_types: ['video.published'] });

describe('Idempotency-Key', () => {
  it('answers a repeat with the first answer, once', async () => {
    const user = await registerUser(t);
    const first = await create(user.access_token, 'create-1', body(1));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const again = await create(user.access_token, 'create-1', body(1));
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body, 'the same endpoint, with the same secret');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.headers.get('location'), first.headers.get('location'));
    assert.match(again.headers.get('content-type') ?? '', /^application\/json/);
    assert.notEqual(again.headers.get('x-request-id'), first.headers.get('x-request-id'));
    assert.equal((await endpointsOf(user.access_token)).length, 1, 'created once');
    // Without a key, each request creates.
    assert.equal((await create(user.access_token, undefined, body(1))).status, 201);
    assert.equal((await endpointsOf(user.access_token)).length, 2);
  });

  it('refuses the key with another body (422) and keeps the first answer', async () => {
    const user = await registerUser(t);
    const first = await create(user.access_token, 'k', body(1));
    assert.equal(first.status, 201);
    assertProblem(await create(user.access_token, 'k', body(2)), 422, 'IDEMPOTENCY_KEY_REUSED');
    // On another route, the key is another request too.
    const other = await api(t, 'POST', `${PATH}/${first.body.id}/rotate-secret`, {
      token: user.access_token,
      headers: { 'idempotency-key': 'k' },
    });
    assertProblem(other, 422, 'IDEMPOTENCY_KEY_REUSED');
    const again = await create(user.access_token, 'k', body(1));
    assert.equal(again.body.id, first.body.id);
    assert.equal((await endpointsOf(user.access_token)).length, 1);
  });

  it('keys belong to their caller', async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    const a = await create(alice.access_token, 'shared-key', body(1));
    const b = await create(bob.access_token, 'shared-key', body(1));
    assert.equal(b.status, 201);
    assert.equal(b.headers.get('idempotent-replayed'), null);
    assert.notEqual(a.body.id, b.body.id);
    assert.equal(b.body.owner_id, bob.id);
  });

  it('replays a refusal too, but not a failure of the request itself', async () => {
    const user = await registerUser(t);
    const instance = { ...body(1), scope: 'instance' };
    const refused = await create(user.access_token, 'not-admin', instance);
    assertProblem(refused, 403, 'ADMIN_REQUIRED');
    const replayed = await create(user.access_token, 'not-admin', instance);
    // The first answer whole: its request_id is the first request's.
    assert.equal(replayed.status, 403);
    assert.deepEqual(replayed.body, refused.body);
    assert.match(replayed.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    // Invalid input never reaches the handler: nothing is kept, the same key works once fixed.
    assert.deepEqual(badFields(await create(user.access_token, 'fix-me', { url: 'nope' })), [
      'event_types',
      'url',
    ]);
    assert.equal((await create(user.access_token, 'fix-me', body(3))).status, 201);
  });

  it('answers 409 while the first request with the key is still running', async () => {
    const user = await registerUser(t);
    const scope = callerScope(user.id, 'POST', PATH);
    const hash = requestHash('POST', PATH, { ...body(1), description: '', enabled: true, scope: 'user' });
    await sql`
      insert into idempotency_keys (scope, key, request_hash, expires_at)
      values (${scope}, 'busy', ${hash}, now() + interval '1 hour')
    `.execute(t.app.database.db);
    const res = await create(user.access_token, 'busy', body(1));
    assertProblem(res, 409, 'IDEMPOTENCY_KEY_IN_USE');
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal((await endpointsOf(user.access_token)).length, 0);
  });

  it('checks the key and forgets it after 24 h', async () => {
    const user = await registerUser(t);
    let checked = 0;
    for (const key of ['', 'a'.repeat(256), 'has space', 'tab\there', 'é']) {
      const res = await api(t, 'POST', PATH, {
        token: user.access_token,
        body: body(1),
        headers: { 'idempotency-key': key },
      }).catch(() => undefined);
      // fetch refuses some header values itself; those never reach the server.
      if (!res) continue;
      assert.deepEqual(badFields(res), ['Idempotency-Key'], JSON.stringify(key));
      checked++;
    }
    assert.ok(checked >= 3, `${checked} bad keys reached the server`);
    assert.equal((await create(user.access_token, 'a'.repeat(255), body(1))).status, 201);

    const first = await create(user.access_token, 'old', body(4));
    await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = 'old'`.execute(
      t.app.database.db,
    );
    // Expired: the key starts afresh, even with another body.
    const fresh = await create(user.access_token, 'old', body(5));
    assert.equal(fresh.status, 201);
    assert.notEqual(fresh.body.id, first.body.id);
    await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = 'old'`.execute(
      t.app.database.db,
    );
    const sweep = t.app.jobs.get('platform.sweep_idempotency_keys');
    assert.ok(sweep?.cron, 'a scheduled sweep');
    await sweep.handler(
      {},
      { jobId: '0', attempts: 1, maxAttempts: 1, signal: new AbortController().signal },
    );
    const { rows } = await sql`select key from idempotency_keys where key = 'old'`.execute(t.app.database.db);
    assert.deepEqual(rows, []);
  });

  it('is not offered on sign-in routes, whose answers hold tokens', async () => {
    const user = await registerUser(t);
    const login = () =>
      api(t, 'POST', '/api/v1/auth/login', {
        body: { username: user.username, password: user.password },
        headers: { 'idempotency-key': 'login' },
      });
    const a = await login();
    const b = await login();
    assert.equal(b.headers.get('idempotent-replayed'), null);
    assert.notEqual(a.body.access_token, b.body.access_token);
  });
});

describe('Idempotency-Key on any POST route (a server of its own)', () => {
  let server: HttpServer;
  let base: string;
  const runs = { flaky: 0, slow: 0, optOut: 0 };
  let entered: () => void = () => {};
  let open: () => void = () => {};
  before(async () => {
    server = await createHttpServer({
      logger: pino({ level: 'silent' }),
      metrics: createMetrics(),
      trustProxy: false,
      version: 'test',
    });
    installIdempotency(server, new IdempotencyStore(t.app.database.db));
    const thing = { body: z.object({ name: z.string() }), response: { 201: z.object({ n: z.number() }) } };
    server.post('/api/v1/flaky', { config: { auth: 'public' }, schema: thing }, async (_req, reply) => {
      runs.flaky++;
      if (runs.flaky === 1) throw new Error('the database went away');
      return reply.status(201).send({ n: runs.flaky });
    });
    server.post('/api/v1/slow', { config: { auth: 'public' }, schema: thing }, async (_req, reply) => {
      runs.slow++;
      entered();
      await new Promise<void>((resolve) => {
        open = resolve;
      });
      return reply.status(201).send({ n: runs.slow });
    });
    server.post('/api/v1/plain', { config: { auth: 'public' }, schema: thing }, async (_req, reply) =>
      reply.status(201).send({ n: 0 }),
    );
    server.post(
      '/api/v1/opt-out',
      { config: { auth: 'public', idempotency: false }, schema: thing },
      async (_req, reply) => reply.status(201).send({ n: ++runs.optOut }),
    );
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => server.close());

  const post = (path: string, key: string, name = 'a') =>
    api({ url: base }, 'POST', path, { body: { name }, headers: { 'idempotency-key': key } });

  it('keeps no server error: the retry runs the request again', async () => {
    assert.equal((await post('/api/v1/flaky', 'f')).status, 500);
    const second = await post('/api/v1/flaky', 'f');
    assert.equal(second.status, 201);
    assert.deepEqual(second.body, { n: 2 });
    const third = await post('/api/v1/flaky', 'f');
    assert.deepEqual(third.body, { n: 2 });
    assert.equal(third.headers.get('idempotent-replayed'), 'true');
    assert.equal(runs.flaky, 2);
  });

  it('scopes anonymous keys to the route', async () => {
    assert.equal((await post('/api/v1/flaky', 'anon', 'x')).status, 201);
    const other = await post('/api/v1/plain', 'anon', 'y');
    assert.equal(other.status, 201, 'same key and another body on another route: not a reuse');
    assert.equal(other.headers.get('idempotent-replayed'), null);
    assert.equal((await post('/api/v1/flaky', 'anon', 'x')).headers.get('idempotent-replayed'), 'true');
  });

  it('answers 409 while the first request runs, then replays its answer', async () => {
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const first = post('/api/v1/slow', 's');
    await inside;
    const meanwhile = await post('/api/v1/slow', 's');
    assertProblem(meanwhile, 409, 'IDEMPOTENCY_KEY_IN_USE');
    open();
    assert.equal((await first).status, 201);
    const later = await post('/api/v1/slow', 's');
    assert.equal(later.status, 201);
    assert.equal(later.headers.get('idempotent-replayed'), 'true');
    assert.equal(runs.slow, 1);
  });

  it('lets a route opt out', async () => {
    const a = await post('/api/v1/opt-out', 'o');
    const b = await post('/api/v1/opt-out', 'o');
    assert.notDeepEqual(a.body, b.body);
    assert.equal(b.headers.get('idempotent-replayed'), null);
  });
});
