// The HTTP platform every module stands on: problem+json errors, request ids, health, metrics, the
// auth-level rule and the OpenAPI document.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { sql } from 'kysely';
import pino from 'pino';
import { DomainError } from '../src/platform/errors/domain-error.ts';
import { createHttpServer } from '../src/platform/http/server.ts';
import { createMetrics } from '../src/platform/observability/metrics.ts';
import { type ApiResponse, api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';

/** The parts of an OpenAPI document these tests read. */
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  security?: Array<Record<string, string[]>>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const METRICS_TOKEN = 'metrics-scraper-token-0123456789';

function assertProblem(res: ApiResponse<Record<string, unknown>>, status: number, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.equal(res.body.code, code);
  for (const field of ['type', 'title', 'detail', 'request_id']) {
    assert.equal(typeof res.body[field], 'string', `${field} in ${JSON.stringify(res.body)}`);
  }
  // The path, when it names something here; never a URL the server could not read.
  if (res.body.instance !== undefined) assert.equal(typeof res.body.instance, 'string');
  assert.equal(res.body.request_id, res.headers.get('x-request-id'));
}

/** Nothing of the server's insides: no stack frames, no SQL, no file paths. */
function assertNothingLeaks(text: string) {
  assert.doesNotMatch(text, /\bat .+:\d+:\d+/, 'stack frame');
  assert.doesNotMatch(text, /"stack"/);
  assert.doesNotMatch(text, /\b(select|insert|update|delete)\b.+\b(from|into|set)\b/i, 'SQL');
  assert.doesNotMatch(text, /\/work\/|node_modules|\.ts\b/, 'file path');
}

/** Sends `request` as it is on a socket and answers the parsed reply, for requests fetch() would fix. */
async function rawRequest(
  url: string,
  request: string,
): Promise<ApiResponse<Record<string, unknown>> & { text: string }> {
  const { hostname, port } = new URL(url);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(request));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', (err) => (data ? resolve(data) : reject(err)));
  });
  const [head = '', text = ''] = raw.split(/\r\n\r\n(.*)/s);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const status = Number(statusLine.split(' ')[1]);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the assertions say so
  }
  return { status, headers, body, text };
}

/** Every route the server holds, read from Fastify's route tree: "METHOD /path/{param}". */
function registeredRoutes(tree: string): string[] {
  const parents: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const full = (parents[depth - 1] ?? '') + m[2]!;
    parents[depth] = full;
    for (const method of m[3]?.split(', ') ?? []) routes.push(`${method} ${full.replace(/:(\w+)/g, '{$1}')}`);
  }
  return routes;
}

describe('http platform', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ METRICS_TOKEN });
  });
  after(() => t.stop());

  it('answers an unknown route with a 404 problem', async () => {
    for (const [method, path] of [
      ['GET', '/no/such/route'],
      ['POST', '/api/v1/no-such-thing'],
      ['DELETE', '/healthz'],
    ] as const) {
      const res = await api(t, method, path);
      assertProblem(res, 404, 'NOT_FOUND');
      assert.equal(res.body.instance, path);
    }
  });

  it('answers bad requests with problems that name what is wrong', async () => {
    const invalid = await api(t, 'POST', '/api/v1/auth/register', { body: { username: 'x', email: 'nope' } });
    assertProblem(invalid, 400, 'VALIDATION_FAILED');
    const fields = invalid.body.errors.map((e: { field: string }) => e.field);
    for (const f of ['username', 'email', 'password']) assert.ok(fields.includes(f), `${f} in ${fields}`);

    const malformed = await api(t, 'POST', '/api/v1/auth/login', {
      raw: '{"email": ',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(malformed, 400, 'MALFORMED_REQUEST');

    const wrongType = await api(t, 'POST', '/api/v1/auth/login', {
      raw: 'email=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assertProblem(wrongType, 415, 'UNSUPPORTED_MEDIA_TYPE');

    const huge = await api(t, 'POST', '/api/v1/auth/login', {
      raw: JSON.stringify({ email: 'a@example.test', password: 'x'.repeat(2 * 1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(huge, 413, 'PAYLOAD_TOO_LARGE');

    const noToken = await api(t, 'GET', '/api/v1/users/me');
    assertProblem(noToken, 401, 'TOKEN_MISSING');
    const badToken = await api(t, 'GET', '/api/v1/users/me', { headers: { authorization: 'Basic abc' } });
    assertProblem(badToken, 401, 'TOKEN_INVALID');

    for (const res of [invalid, malformed, wrongType, huge, noToken, badToken]) {
      assertNothingLeaks(JSON.stringify(res.body));
    }
  });

  it('answers a URL it cannot decode with a 400 problem that does not repeat it', async () => {
    for (const path of ['/api/v1/%zz', '/api/v1/videos/%E0%A4%A', '/healthz/%']) {
      const res = await rawRequest(t.url, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assertProblem(res, 400, 'MALFORMED_URL');
      assert.equal(res.body.instance, undefined);
      assert.ok(!res.text.includes(path), `${path} echoed: ${res.text}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
  });

  it('answers an overlong path segment with a 414 problem that does not repeat it', async () => {
    const id = `abc${'x'.repeat(300)}`;
    for (const [method, path] of [
      ['GET', `/api/v1/videos/${id}`],
      ['PATCH', `/api/v1/admin/users/${id}?q=1`],
    ] as const) {
      const res = await api(t, method, path);
      assertProblem(res, 414, 'URL_TOO_LONG');
      assert.equal(res.body.instance, undefined);
      assert.ok(!JSON.stringify(res.body).includes('xxxxxxxxxx'), JSON.stringify(res.body));
    }
  });

  it('answers a request line and headers past the limit with a 431 problem', async () => {
    const huge = 'a'.repeat(20_000);
    for (const request of [
      `GET /healthz?q=${huge} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${huge}\r\n\r\n`,
    ]) {
      const res = await rawRequest(t.url, request);
      assert.equal(res.status, 431, res.text.slice(0, 200));
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.code, 'HEADERS_TOO_LARGE');
      assert.equal(res.body.status, 431);
      assert.equal(typeof res.body.request_id, 'string');
      assert.equal(res.body.request_id, res.headers.get('x-request-id'));
      assert.ok(!res.text.includes('aaaaaaaaaa'));
    }
  });

  it('answers a request that is not HTTP with a 400 problem', async () => {
    for (const request of ['HELLO\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n']) {
      const res = await rawRequest(t.url, request);
      assert.equal(res.status, 400, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.code, 'MALFORMED_REQUEST');
      assert.equal(typeof res.body.title, 'string');
    }
  });

  it('answers a JSON body Fastify refuses (empty, bad content type) with problems', async () => {
    const empty = await api(t, 'POST', '/api/v1/auth/login', {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(empty, 400, 'MALFORMED_REQUEST');
    const badType = await api(t, 'POST', '/api/v1/auth/login', {
      raw: '{}',
      headers: { 'content-type': 'application json' },
    });
    assertProblem(badType, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const poisoned = await api(t, 'POST', '/api/v1/auth/login', {
      raw: '{"username":"a","password":"b","__proto__":{"x":1}}',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(poisoned, 400, 'MALFORMED_REQUEST');
  });

  it('sends x-request-id on every response, and keeps one the caller gives', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/openapi.json', '/api/docs', '/nowhere']) {
      const res = await fetch(`${t.url}${path}`);
      await res.arrayBuffer();
      assert.match(res.headers.get('x-request-id') ?? '', UUID, path);
    }
    const given = await api(t, 'GET', '/nowhere', { headers: { 'x-request-id': 'edge-42.abc:7' } });
    assert.equal(given.headers.get('x-request-id'), 'edge-42.abc:7');
    assert.equal(given.body.request_id, 'edge-42.abc:7');
    // Anything that does not look like an id (spaces, too long) is replaced, so it cannot forge log lines.
    for (const bad of ['two words', 'x'.repeat(129), 'a\tb']) {
      const res = await api(t, 'GET', '/healthz', { headers: { 'x-request-id': bad } });
      assert.match(res.headers.get('x-request-id') ?? '', UUID);
    }
  });

  it('serves liveness and readiness', async () => {
    const health = await api(t, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await api(t, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { database: true, migrations: true } });
  });

  it('serves Prometheus metrics labelled by route template, not by URL', async () => {
    await api(t, 'GET', '/healthz');
    await api(t, 'GET', '/no/such/page-4711');
    await api(t, 'PATCH', `/api/v1/admin/users/${crypto.randomUUID()}`, { body: {} });
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
    assert.match(
      text,
      /^http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} \d+$/m,
    );
    assert.match(text, /^http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/healthz"/m);
    assert.match(text, /route="\/api\/v1\/admin\/users\/:id",status_code="401"/);
    assert.match(text, /route="unmatched",status_code="404"/);
    assert.doesNotMatch(text, /page-4711/, 'a URL must not become a label');
    assert.match(text, /^process_cpu_user_seconds_total [\d.e+-]+$/m);
    assert.match(text, /^nodejs_heap_size_used_bytes \d+/m);
    assert.match(text, /^db_pool_connections_total \d+$/m);
    assert.match(text, /^db_pool_connections_idle \d+$/m);
    assert.match(text, /^db_pool_requests_waiting \d+$/m);
  });

  it('serves /metrics only to the bearer of METRICS_TOKEN', async () => {
    const missing = await api(t, 'GET', '/metrics');
    assertProblem(missing, 401, 'TOKEN_MISSING');
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    for (const authorization of [
      `Bearer ${METRICS_TOKEN}x`,
      `Bearer ${METRICS_TOKEN.slice(1)}`,
      METRICS_TOKEN,
    ]) {
      const res = await api(t, 'GET', '/metrics', { headers: { authorization } });
      assertProblem(res, 401, 'TOKEN_INVALID');
      assert.doesNotMatch(JSON.stringify(res.body), /http_request_duration/);
    }
    // An access token of a user is not the metrics token.
    const u = await registerUser(t);
    assertProblem(await api(t, 'GET', '/metrics', { token: u.access_token }), 401, 'TOKEN_INVALID');
  });

  it('sends the usual security headers on every answer', async () => {
    for (const path of ['/healthz', '/api/v1/users/me', '/nowhere', '/api/docs', '/api/openapi.json']) {
      const res = await fetch(`${t.url}${path}`);
      await res.arrayBuffer();
      const h = res.headers;
      assert.equal(h.get('x-content-type-options'), 'nosniff', path);
      assert.equal(h.get('referrer-policy'), 'no-referrer', path);
      assert.equal(h.get('x-frame-options'), 'SAMEORIGIN', path);
      const csp = h.get('content-security-policy') ?? '';
      for (const directive of [
        "default-src 'self'",
        "frame-ancestors 'self'",
        "object-src 'none'",
        "script-src 'self'",
      ]) {
        assert.ok(csp.split(';').includes(directive), `${path}: ${directive} in ${csp}`);
      }
      // Served over plain HTTP on a local network, a page must still load its own scripts.
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
    }
  });

  it('keeps API answers out of caches, those that carry tokens first', async () => {
    const noStore = (res: ApiResponse, label: string) =>
      assert.equal(res.headers.get('cache-control'), 'no-store', `${label}: ${res.status}`);
    const u = await registerUser(t);
    const registered = await api(t, 'POST', '/api/v1/auth/register', {
      body: {
        username: `cc_${Date.now() % 1e6}`,
        email: `cc${Date.now()}@example.test`,
        password: 'pw long enough',
      },
    });
    noStore(registered, 'register');
    const login = await api(t, 'POST', '/api/v1/auth/login', {
      body: { username: u.username, password: u.password },
    });
    noStore(login, 'login');
    noStore(
      await api(t, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh_token } }),
      'refresh',
    );
    noStore(await api(t, 'GET', '/api/v1/users/me', { token: login.body.access_token }), 'users/me');
    noStore(await api(t, 'POST', '/api/v1/auth/logout', { token: login.body.access_token }), 'logout');
    noStore(await api(t, 'GET', '/api/v1/users/me'), 'a refusal');

    // A video that is not public: its answer carries playback tokens.
    const videos = t.app.videos;
    const video = await videos.register(t.app.database.db, {
      ownerId: u.id,
      title: 'cached?',
      filename: null,
      size: null,
    });
    await t.app.database.db
      .transaction()
      .execute((tx) => videos.markUploaded(tx, video.id, { key: 'k', size: 1 }));
    const run = await videos.runs.startProcessing(video.id);
    await videos.runs.markPlayable(video.id, run!.media_version);
    const edited = await api(t, 'PATCH', `/api/v1/videos/${video.id}`, {
      token: u.access_token,
      body: { visibility: 'unlisted' },
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    noStore(edited, 'PATCH videos/{id}');
    const got = await api(t, 'GET', `/api/v1/videos/${video.id}`);
    assert.match(got.body.playback.hls, /[?&]token=/);
    noStore(got, 'GET videos/{id}');
    // A route that chooses its own caching keeps it.
    const progress = await api(t, 'GET', `/api/v1/videos/${video.id}/processing`);
    assert.equal(progress.headers.get('cache-control'), 'no-cache');
  });

  it('serves the API documentation page', async () => {
    const res = await fetch(`${t.url}/api/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /swagger-ui/i);
    const css = await fetch(`${t.url}/api/docs/static/swagger-ui.css`);
    assert.equal(css.status, 200);
    await css.arrayBuffer();
  });

  describe('the OpenAPI document', () => {
    let doc: OpenApiDocument;
    before(async () => {
      const res = await fetch(`${t.url}/api/openapi.json`);
      assert.equal(res.status, 200);
      doc = (await res.json()) as OpenApiDocument;
    });

    const operations = () =>
      Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/api/v1'))
        .flatMap(([path, ops]) =>
          Object.entries(ops)
            .filter(([method]) =>
              ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].includes(method),
            )
            .map(([method, op]) => ({ path, method, op })),
        );

    it('is valid OpenAPI 3.1', async () => {
      assert.equal(doc.openapi, '3.1.0');
      const validator = new Validator();
      const result = await validator.validate({ ...doc });
      assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
      assert.equal(validator.version, '3.1');
    });

    it('documents every /api/v1 route', () => {
      const documented = new Set(operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`));
      const routes = registeredRoutes(t.app.http!.printRoutes({ commonPrefix: false }))
        .filter((r) => r.includes(' /api/v1'))
        // Fastify adds HEAD to every GET by itself.
        .filter((r) => !r.startsWith('HEAD ') || !documented.has(r.replace(/^HEAD/, 'GET')));
      assert.ok(routes.length >= 8, `found routes: ${routes}`);
      const missing = routes.filter((r) => !documented.has(r));
      assert.deepEqual(missing, [], 'routes missing from the OpenAPI document');
      // ...and the HEAD twins of GET routes stay out of it.
      for (const { path, method } of operations()) {
        if (method === 'head') assert.equal(doc.paths[path]?.get, undefined, `HEAD ${path} twins a GET`);
      }
    });

    it('gives every /api/v1 operation a 4xx response with the Problem schema', () => {
      assert.ok(doc.components.schemas.Problem, 'a Problem schema component');
      const problemRef = '#/components/schemas/Problem';
      // OPTIONS answers protocol discovery (tus), which takes no input and cannot fail.
      for (const { path, method, op } of operations().filter((o) => o.method !== 'options')) {
        const problems = Object.entries(op.responses).filter(
          ([status, r]) =>
            /^4\d\d$/.test(status) &&
            Object.values(r.content ?? {}).some((c) => c.schema?.$ref === problemRef),
        );
        assert.ok(problems.length > 0, `${method.toUpperCase()} ${path} documents no problem response`);
      }
    });

    it('marks exactly the operations that need a token with `security`', async () => {
      const ops = operations();
      assert.ok(ops.some(({ op }) => op.security));
      for (const { path, method, op } of ops) {
        // Without a token: a route that needs one answers TOKEN_MISSING before it reads anything else.
        const url = path.replace(/\{\w+\}/g, crypto.randomUUID());
        const res = await fetch(`${t.url}${url}`, {
          method: method.toUpperCase(),
          signal: AbortSignal.timeout(5000),
        });
        const text = await res.text();
        const body = res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined;
        // A HEAD answer has no body to carry the code.
        const needsToken = res.status === 401 && (method === 'head' || body?.code === 'TOKEN_MISSING');
        const label = `${method.toUpperCase()} ${path}`;
        if (needsToken) {
          assert.deepEqual(op.security, [{ bearer: [] }], `${label} needs a token but has no security`);
          const statuses = Object.keys(op.responses);
          assert.ok(statuses.includes('401') && statuses.includes('403'), `${label} documents 401 and 403`);
        } else if (op.security) {
          // A token is welcome but not needed: anonymous access is one of the alternatives.
          assert.deepEqual(
            op.security,
            [{}, { bearer: [] }],
            `${label} answered ${res.status} without a token`,
          );
        }
      }
      assert.deepEqual(doc.components.securitySchemes.bearer, {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      });
    });
  });
});

describe('/metrics by default and on a listener of its own', () => {
  it('is not served at all without METRICS_TOKEN or METRICS_PORT', async () => {
    const plain = await startTestApp();
    try {
      assertProblem(await api(plain, 'GET', '/metrics'), 404, 'NOT_FOUND');
      assert.equal(plain.app.metricsUrl, undefined);
    } finally {
      await plain.stop();
    }
  });

  it('is served on METRICS_PORT only, with the token when one is set', async () => {
    const apart = await startTestApp({ METRICS_PORT: '0', METRICS_TOKEN });
    try {
      const metricsUrl = apart.app.metricsUrl!;
      assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      await api(apart, 'GET', '/healthz');
      // Not on the API's listener, even with the token.
      const onApi = await api(apart, 'GET', '/metrics', {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      assertProblem(onApi, 404, 'NOT_FOUND');
      const listener = { url: metricsUrl.replace(/\/metrics$/, '') };
      assertProblem(await api(listener, 'GET', '/metrics'), 401, 'TOKEN_MISSING');
      assertProblem(
        await api(listener, 'GET', '/metrics', { headers: { authorization: 'Bearer nope' } }),
        401,
        'TOKEN_INVALID',
      );
      assertProblem(await api(listener, 'GET', '/other'), 404, 'NOT_FOUND');
      const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(
        await res.text(),
        /^http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} \d+$/m,
      );
    } finally {
      await apart.stop();
    }
    // Stopping the app closed its listener.
    await assert.rejects(fetch(apart.app.metricsUrl!));
  });
});

describe('http server rules', () => {
  const server = () =>
    createHttpServer({
      logger: pino({ level: 'silent' }),
      metrics: createMetrics(),
      trustProxy: false,
      version: 'test',
    });

  it('refuses to boot with an /api/v1 route that does not state who may call it', async () => {
    const app = await server();
    try {
      assert.throws(
        () => app.get('/api/v1/forgotten', async () => ({ ok: true })),
        /GET \/api\/v1\/forgotten does not state who may call it \(config\.auth\)/,
      );
      // Routes outside the API, and API routes that state a level, are fine.
      app.get('/plain', async () => ({ ok: true }));
      app.get('/api/v1/stated', { config: { auth: 'public' } }, async () => ({ ok: true }));
      await app.ready();
    } finally {
      await app.close();
    }
  });

  it('never shows a stack, SQL or an internal message in an error', async () => {
    const t = await startTestApp();
    const app = await server();
    try {
      app.get('/api/v1/throws', { config: { auth: 'public' } }, async () => {
        throw new Error(
          "update users set password_hash = 'x' where id = 1 failed at /work/main/src/x.ts:1:2",
        );
      });
      app.get('/api/v1/bad-sql', { config: { auth: 'public' } }, async () => {
        await sql`select secret from no_such_table where owner = ${'me'}`.execute(t.app.database.db);
        return {};
      });
      app.get('/api/v1/throws-string', { config: { auth: 'public' } }, async () => {
        throw 'a bare string with select * from users';
      });
      app.get('/api/v1/known', { config: { auth: 'public' } }, async () => {
        throw new DomainError('PERMISSION_DENIED', 'Only the owner may do this');
      });
      for (const url of ['/api/v1/throws', '/api/v1/bad-sql', '/api/v1/throws-string']) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 500, url);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        const body = res.json();
        assert.equal(body.code, 'INTERNAL_ERROR');
        assert.equal(body.request_id, res.headers['x-request-id']);
        assertNothingLeaks(res.body);
        assert.doesNotMatch(res.body, /no_such_table|password_hash|bare string/);
      }
      const known = await app.inject({ method: 'GET', url: '/api/v1/known' });
      assert.equal(known.statusCode, 403);
      assert.equal(known.json().code, 'PERMISSION_DENIED');
      assert.equal(known.json().detail, 'Only the owner may do this');
    } finally {
      await app.close();
      await t.stop();
    }
  });
});
