import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { claimsOf, TEST_JWT_SECRET } from './helpers/tokens.ts';

const ADMIN = { email: 'root@example.test', password: 'admin password 1' };

let t: TestApp;
let adminToken: string;
before(async () => {
  t = await startTestApp({
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    REGISTER_LIMIT_PER_IP: '1000',
    LOGIN_LIMIT_PER_IP: '1000',
  });
  const res = await api(t, 'POST', '/api/v1/auth/login', { body: ADMIN });
  assert.equal(res.status, 200);
  adminToken = res.body.access_token;
});
after(() => t.stop());

const register = (body: unknown) => api(t, 'POST', '/api/v1/auth/register', { body });
const login = (body: unknown) => api(t, 'POST', '/api/v1/auth/login', { body });
let seq = 0;
const fresh = () => {
  seq++;
  return { username: `Auth_${seq}_${Date.now() % 1e6}`, email: `auth${seq}.${Date.now()}@Example.test` };
};

describe('POST /api/v1/auth/register', () => {
  it('creates an account, signs it in and answers tokens with the user', async () => {
    const input = { ...fresh(), password: 'long enough pw' };
    const res = await register(input);
    assert.equal(res.status, 201);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const { body } = res;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 900);
    assert.equal(body.access_token.split('.').length, 3);
    assert.match(body.refresh_token, /^rt_[\w-]{40,}$/);
    assert.match(body.user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(
      { ...body.user, id: undefined, created_at: undefined },
      {
        id: undefined,
        created_at: undefined,
        username: input.username,
        email: input.email,
        display_name: input.username,
        role: 'user',
        status: 'active',
      },
    );
    assert.ok(Math.abs(Date.parse(body.user.created_at) - Date.now()) < 60_000);
    assert.equal(claimsOf(body.access_token).sub, body.user.id);

    const me = await api(t, 'GET', '/api/v1/users/me', { token: body.access_token });
    assert.equal(me.status, 200);
    // /users/me adds the account's channel (made with it) to what sign-in answers.
    assert.match(me.body.channel_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(me.body, { ...body.user, channel_id: me.body.channel_id });
  });

  it('keeps a given display name, trimmed', async () => {
    const res = await register({ ...fresh(), password: 'long enough pw', display_name: '  Ada L.  ' });
    assert.equal(res.status, 201);
    assert.equal(res.body.user.display_name, 'Ada L.');
  });

  it('names every missing field', async () => {
    assert.deepEqual(badFields(await register({})), ['email', 'password', 'username']);
    assert.deepEqual(badFields(await register({ ...fresh() })), ['password']);
  });

  it('names every field of the wrong type', async () => {
    const res = await register({ username: 42, email: true, password: ['a long password'], display_name: 7 });
    assert.deepEqual(badFields(res), ['display_name', 'email', 'password', 'username']);
    for (const e of res.body.errors) assert.equal(typeof e.message, 'string');
  });

  it('refuses a body that is not an object', async () => {
    const res = await api(t, 'POST', '/api/v1/auth/register', {
      raw: '["x"]',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(badFields(res), ['body']);
    assert.deepEqual(badFields(await api(t, 'POST', '/api/v1/auth/register')), ['body']);
  });

  it('refuses an invalid email', async () => {
    for (const email of ['not-an-email', 'a@', '@example.test', 'a b@example.test', '']) {
      const res = await register({ username: fresh().username, email, password: 'long enough pw' });
      assert.deepEqual(badFields(res), ['email'], email);
    }
  });

  it('refuses a short password, and one of exactly 8 characters passes', async () => {
    const short = await register({ ...fresh(), password: '1234567' });
    assert.deepEqual(badFields(short), ['password']);
    assert.match(short.body.errors[0].message, /8/);
    assert.equal((await register({ ...fresh(), password: 'k7#p2!qz' })).status, 201);
  });

  it('refuses a very common password, in any case, naming password', async () => {
    for (const password of ['password123', 'Password123', 'QWERTYUIOP', 'iloveyou1', '12345678']) {
      const res = await register({ ...fresh(), password });
      assert.deepEqual(badFields(res), ['password'], password);
      assert.match(res.body.errors[0].message, /common/);
    }
  });

  it('refuses a password that is the username or the email, in any case', async () => {
    const names = fresh();
    for (const password of [
      names.username,
      names.username.toUpperCase(),
      names.email,
      names.email.toLowerCase(),
    ]) {
      const res = await register({ ...names, password });
      assert.deepEqual(badFields(res), ['password'], password);
      assert.match(res.body.errors[0].message, /username|email/);
    }
    // Neither was made.
    assertProblem(
      await login({ username: names.username, password: names.username }),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  it('refuses a bad username', async () => {
    for (const username of ['ab', 'has space', 'dash-ed', 'x'.repeat(33), 'ünï']) {
      const res = await register({ username, email: fresh().email, password: 'long enough pw' });
      assert.deepEqual(badFields(res), ['username'], username);
    }
  });

  it('refuses a display name that is blank or too long', async () => {
    assert.deepEqual(badFields(await register({ ...fresh(), password: 'pw 12345', display_name: '  ' })), [
      'display_name',
    ]);
    const long = await register({ ...fresh(), password: 'pw 12345', display_name: 'x'.repeat(65) });
    assert.deepEqual(badFields(long), ['display_name']);
  });

  it('answers 409 USERNAME_TAKEN for a taken username in any case', async () => {
    const first = await registerUser(t);
    for (const username of [first.username, first.username.toUpperCase()]) {
      const res = await register({ username, email: fresh().email, password: 'long enough pw' });
      assertProblem(res, 409, 'USERNAME_TAKEN');
    }
  });

  it('answers 409 EMAIL_TAKEN for a registered email in any case', async () => {
    const first = await registerUser(t);
    for (const email of [first.email, first.email.toUpperCase()]) {
      const res = await register({ username: fresh().username, email, password: 'long enough pw' });
      assertProblem(res, 409, 'EMAIL_TAKEN');
    }
  });

  it('answers 400 MALFORMED_REQUEST for a body that is not JSON', async () => {
    for (const raw of ['{"username": "a",', '', 'undefined']) {
      const res = await api(t, 'POST', '/api/v1/auth/register', {
        raw,
        headers: { 'content-type': 'application/json' },
      });
      assertProblem(res, 400, 'MALFORMED_REQUEST');
    }
  });

  it('refuses a NUL character in any field with VALIDATION_FAILED naming it', async () => {
    for (const field of ['username', 'email', 'password', 'display_name'] as const) {
      const body = { ...fresh(), password: 'long enough pw', display_name: 'Ada' };
      body[field] = `${body[field]}\u0000x`;
      assert.deepEqual(badFields(await register(body)), [field], field);
    }
    // An unknown field is dropped by validation, but its value is refused all the same.
    const extra = await register({ ...fresh(), password: 'long enough pw', nickname: ['a', 'b\u0000'] });
    assert.deepEqual(badFields(extra), ['nickname.1']);
    // A literal backslash-u in a value is no NUL.
    assert.equal((await register({ ...fresh(), password: 'long \\u0000 pw' })).status, 201);
  });

  it('answers 415 for an unsupported content type and 413 for a huge body', async () => {
    const xml = await api(t, 'POST', '/api/v1/auth/register', {
      raw: '<user/>',
      headers: { 'content-type': 'application/xml' },
    });
    assertProblem(xml, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const huge = await register({ ...fresh(), password: 'x'.repeat(2 * 1024 * 1024) });
    assertProblem(huge, 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('POST /api/v1/auth/login', () => {
  it('refuses a NUL character with VALIDATION_FAILED naming the field, without signing in', async () => {
    const u = await registerUser(t);
    for (const body of [
      { username: `${u.username}\u0000`, password: u.password },
      { email: `${u.email}\u0000`, password: u.password },
    ]) {
      assert.deepEqual(badFields(await login(body)), [Object.keys(body)[0]]);
    }
    assert.deepEqual(badFields(await login({ username: u.username, password: `\u0000${u.password}` })), [
      'password',
    ]);
    // The raw escape as a client library sends it.
    const raw = await api(t, 'POST', '/api/v1/auth/login', {
      raw: `{"username":"nobody\\u0000","password":"x"}`,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.deepEqual(badFields(raw), ['username']);
  });

  it('signs in by username or email, in any case, each time with a new session', async () => {
    const u = await registerUser(t, { username: `Mixed_${Date.now() % 1e6}` });
    const sessions = new Set([claimsOf(u.access_token).sid]);
    for (const by of [
      { username: u.username },
      { username: u.username.toLowerCase() },
      { email: u.email },
      { email: u.email.toUpperCase() },
    ]) {
      const res = await login({ ...by, password: u.password });
      assert.equal(res.status, 200, JSON.stringify(by));
      assert.equal(res.body.token_type, 'Bearer');
      assert.equal(res.body.user.id, u.id);
      assert.equal(res.body.user.username, u.username);
      assert.match(res.body.refresh_token, /^rt_/);
      sessions.add(claimsOf(res.body.access_token).sid);
      const me = await api(t, 'GET', '/api/v1/users/me', { token: res.body.access_token });
      assert.equal(me.body.id, u.id);
    }
    assert.equal(sessions.size, 5);
    // Signing in again leaves the earlier sessions working.
    assert.equal((await api(t, 'GET', '/api/v1/users/me', { token: u.access_token })).status, 200);
  });

  it('answers the same 401 INVALID_CREDENTIALS for a wrong password and an unknown account', async () => {
    const u = await registerUser(t);
    const wrong = await login({ username: u.username, password: 'wrong password' });
    assertProblem(wrong, 401, 'INVALID_CREDENTIALS');
    const wrongByEmail = await login({ email: u.email, password: 'wrong password' });
    assertProblem(wrongByEmail, 401, 'INVALID_CREDENTIALS');
    const unknown = await login({ username: 'nobody_here', password: 'wrong password' });
    assertProblem(unknown, 401, 'INVALID_CREDENTIALS');
    const unknownEmail = await login({ email: 'nobody@example.test', password: 'wrong password' });
    assertProblem(unknownEmail, 401, 'INVALID_CREDENTIALS');
    assert.equal(unknown.body.detail, wrong.body.detail);
    assert.equal(unknown.body.title, wrong.body.title);
  });

  it('wants exactly one of username or email, and a password', async () => {
    const u = await registerUser(t);
    const both = await login({ username: u.username, email: u.email, password: u.password });
    assert.deepEqual(badFields(both), ['username']);
    assert.deepEqual(badFields(await login({ password: u.password })), ['username']);
    assert.deepEqual(badFields(await login({ username: u.username })), ['password']);
    assert.deepEqual(badFields(await login({ username: u.username, password: '' })), ['password']);
    assert.deepEqual(badFields(await login({ username: 5, password: true })), ['password', 'username']);
  });

  it('answers 403 ACCOUNT_HIDDEN for a hidden account, but only with the right password', async () => {
    const u = await registerUser(t);
    const hide = await api(t, 'PATCH', `/api/v1/admin/users/${u.id}`, {
      token: adminToken,
      body: { status: 'hidden' },
    });
    assert.equal(hide.status, 200);
    assertProblem(await login({ username: u.username, password: u.password }), 403, 'ACCOUNT_HIDDEN');
    assertProblem(await login({ email: u.email, password: u.password }), 403, 'ACCOUNT_HIDDEN');
    // A wrong password does not reveal that the account exists and is hidden.
    assertProblem(
      await login({ username: u.username, password: 'wrong password' }),
      401,
      'INVALID_CREDENTIALS',
    );
  });
});

describe('ADMIN_PASSWORD', () => {
  it('makes no administrator with a very common password or one equal to the email', async () => {
    for (const [email, password] of [
      ['first@example.test', 'Password123'],
      ['second.admin@example.test', 'second.admin@example.test'],
    ] as const) {
      const other = await startTestApp({ ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
      try {
        const res = await api(other, 'POST', '/api/v1/auth/login', { body: { email, password } });
        assertProblem(res, 401, 'INVALID_CREDENTIALS');
      } finally {
        await other.stop();
      }
    }
  });
});

describe('request ids', () => {
  it('answers an x-request-id on every response, and a fresh one per request', async () => {
    const a = await api(t, 'GET', '/healthz');
    const b = await api(t, 'GET', '/healthz');
    assert.match(a.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
    const err = await api(t, 'GET', '/api/v1/users/me');
    assertProblem(err, 401, 'TOKEN_MISSING');
    assertProblem(await api(t, 'GET', '/api/v1/no-such-route'), 404, 'NOT_FOUND');
  });

  it('echoes a sane x-request-id, in the header and in problem bodies', async () => {
    const id = 'edge-7f3a.trace:42';
    const ok = await api(t, 'GET', '/healthz', { headers: { 'x-request-id': id } });
    assert.equal(ok.headers.get('x-request-id'), id);
    const err = await login({ username: 'nobody_here', password: 'x' });
    assert.ok(err.headers.get('x-request-id'));
    const bad = await api(t, 'POST', '/api/v1/auth/login', { body: {}, headers: { 'x-request-id': id } });
    assert.equal(bad.headers.get('x-request-id'), id);
    assert.equal(bad.body.request_id, id);
  });

  it('replaces an x-request-id that does not look like one', async () => {
    for (const given of ['has spaces in it', 'x'.repeat(129), '<script>', 'a/b']) {
      const res = await api(t, 'GET', '/healthz', { headers: { 'x-request-id': given } });
      const answered = res.headers.get('x-request-id') ?? '';
      assert.notEqual(answered, given);
      assert.match(answered, /^[0-9a-f-]{36}$/);
    }
  });
});
