import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { TEST_JWT_SECRET } from './helpers/tokens.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({
    JWT_SECRET: TEST_JWT_SECRET,
    REGISTER_LIMIT_PER_IP: '1000',
    LOGIN_LIMIT_PER_IP: '1000',
  });
});
after(() => t.stop());

const me = (token: string) => api(t, 'GET', '/api/v1/users/me', { token });
const setName = (token: string | undefined, body: unknown) =>
  api(t, 'PUT', '/api/v1/user/display-name', { token, body });
const setPassword = (token: string | undefined, body: unknown) =>
  api(t, 'PUT', '/api/v1/user/password', { token, body });
const login = (by: Record<string, string>) => api(t, 'POST', '/api/v1/auth/login', { body: by });
const refresh = (refresh_token: string) =>
  api(t, 'POST', '/api/v1/auth/refresh', { body: { refresh_token } });

describe('GET /api/v1/users/me', () => {
  it('answers the signed-in account with its email and status, and nothing secret', async () => {
    const u = await registerUser(t);
    const res = await me(u.access_token);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), [
      'channel_id',
      'created_at',
      'display_name',
      'email',
      'id',
      'role',
      'status',
      'username',
    ]);
    assert.equal(res.body.id, u.id);
    assert.equal(res.body.username, u.username);
    assert.equal(res.body.email, u.email);
    assert.equal(res.body.role, 'user');
    assert.equal(res.body.status, 'active');
    assert.equal(new Date(res.body.created_at).toISOString(), res.body.created_at);
  });

  it('answers each caller their own account', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    assert.equal((await me(a.access_token)).body.id, a.id);
    assert.equal((await me(b.access_token)).body.id, b.id);
  });

  it('needs a token', async () => {
    assertProblem(await api(t, 'GET', '/api/v1/users/me'), 401, 'TOKEN_MISSING');
  });
});

describe('PUT /api/v1/user/display-name', () => {
  it('changes the display name, trimmed, and keeps it', async () => {
    const u = await registerUser(t);
    const res = await setName(u.access_token, { display_name: '  Grace Hopper \t' });
    assert.equal(res.status, 200);
    assert.equal(res.body.display_name, 'Grace Hopper');
    assert.equal(res.body.id, u.id);
    assert.equal(res.body.username, u.username);
    assert.equal((await me(u.access_token)).body.display_name, 'Grace Hopper');
    // Visible from the account's other sessions too.
    const other = await login({ username: u.username, password: u.password });
    assert.equal((await me(other.body.access_token)).body.display_name, 'Grace Hopper');
  });

  it('accepts 64 characters and unicode', async () => {
    const u = await registerUser(t);
    const longest = 'é'.repeat(64);
    assert.equal((await setName(u.access_token, { display_name: longest })).body.display_name, longest);
    const name = 'Zoë 🎬 Studio';
    assert.equal((await setName(u.access_token, { display_name: name })).body.display_name, name);
  });

  it('refuses an empty, blank, too long or missing name and keeps the old one', async () => {
    const u = await registerUser(t);
    for (const display_name of ['', '   ', '\n\t', 'x'.repeat(65), `  ${'y'.repeat(65)}  `, 42, null]) {
      const res = await setName(u.access_token, { display_name });
      assert.deepEqual(badFields(res), ['display_name'], JSON.stringify(display_name).slice(0, 20));
    }
    assert.deepEqual(badFields(await setName(u.access_token, {})), ['display_name']);
    assert.equal((await me(u.access_token)).body.display_name, u.username);
  });

  it('refuses a NUL character with VALIDATION_FAILED naming the field, and keeps the old name', async () => {
    const u = await registerUser(t);
    for (const display_name of ['Ada\u0000', '\u0000', 'a\u0000b']) {
      assert.deepEqual(badFields(await setName(u.access_token, { display_name })), ['display_name']);
    }
    const weak = await setPassword(u.access_token, {
      current_password: u.password,
      new_password: 'brand new\u0000password',
    });
    assert.deepEqual(badFields(weak), ['new_password']);
    assert.equal((await me(u.access_token)).body.display_name, u.username);
    assert.equal((await login({ username: u.username, password: u.password })).status, 200);
  });

  it('needs a token', async () => {
    assertProblem(await setName(undefined, { display_name: 'Nobody' }), 401, 'TOKEN_MISSING');
  });
});

describe('PUT /api/v1/user/password', () => {
  it('refuses a very common new password, or the username or email, naming new_password', async () => {
    const u = await registerUser(t);
    for (const new_password of ['password123', 'Sunshine1', u.username, u.email.toUpperCase()]) {
      const res = await setPassword(u.access_token, { current_password: u.password, new_password });
      assert.deepEqual(badFields(res), ['new_password'], new_password);
    }
    // The password is unchanged.
    assert.equal((await login({ username: u.username, password: u.password })).status, 200);
  });

  it('answers 401 INVALID_CREDENTIALS naming current_password when the current one is wrong', async () => {
    const u = await registerUser(t);
    const res = await setPassword(u.access_token, {
      current_password: 'not my password',
      new_password: 'brand new password',
    });
    assertProblem(res, 401, 'INVALID_CREDENTIALS');
    assert.deepEqual(
      res.body.errors.map((e: { field: string }) => e.field),
      ['current_password'],
    );
    // Nothing changed: the old password still signs in, the session still works.
    assert.equal((await login({ username: u.username, password: u.password })).status, 200);
    assert.equal((await me(u.access_token)).status, 200);
  });

  it('refuses a short or missing new password and a missing current one', async () => {
    const u = await registerUser(t);
    const short = await setPassword(u.access_token, { current_password: u.password, new_password: 'short' });
    assert.deepEqual(badFields(short), ['new_password']);
    const tooLong = await setPassword(u.access_token, {
      current_password: u.password,
      new_password: 'x'.repeat(257),
    });
    assert.deepEqual(badFields(tooLong), ['new_password']);
    assert.deepEqual(badFields(await setPassword(u.access_token, {})), ['current_password', 'new_password']);
    const wrongTypes = await setPassword(u.access_token, { current_password: 1, new_password: false });
    assert.deepEqual(badFields(wrongTypes), ['current_password', 'new_password']);
    assert.equal((await login({ username: u.username, password: u.password })).status, 200);
  });

  it('changes the password, ends every other session and keeps the current one', async () => {
    const u = await registerUser(t);
    const other = await login({ email: u.email, password: u.password });
    assert.equal(other.status, 200);
    const newPassword = 'a much better password';

    const res = await setPassword(u.access_token, {
      current_password: u.password,
      new_password: newPassword,
    });
    assert.equal(res.status, 204);
    assert.equal(res.body, null);

    // The other session is over, access and refresh alike.
    assertProblem(await me(other.body.access_token), 401, 'SESSION_REVOKED');
    assertProblem(await refresh(other.body.refresh_token), 401, 'SESSION_REVOKED');
    // The current one keeps working and can still be refreshed.
    assert.equal((await me(u.access_token)).status, 200);
    const rotated = await refresh(u.refresh_token);
    assert.equal(rotated.status, 200);
    assert.equal((await me(rotated.body.access_token)).status, 200);

    // The old password no longer signs in; the new one does, by username and by email.
    assertProblem(await login({ username: u.username, password: u.password }), 401, 'INVALID_CREDENTIALS');
    assert.equal((await login({ username: u.username, password: newPassword })).status, 200);
    assert.equal((await login({ email: u.email, password: newPassword })).status, 200);

    // The old password cannot change it again either.
    const again = await setPassword(u.access_token, {
      current_password: u.password,
      new_password: 'third one!',
    });
    assertProblem(again, 401, 'INVALID_CREDENTIALS');
  });

  it('works twice in a row from the same session', async () => {
    const u = await registerUser(t);
    const first = await setPassword(u.access_token, {
      current_password: u.password,
      new_password: 'second password',
    });
    assert.equal(first.status, 204);
    const second = await setPassword(u.access_token, {
      current_password: 'second password',
      new_password: 'third password',
    });
    assert.equal(second.status, 204);
    assert.equal((await login({ username: u.username, password: 'third password' })).status, 200);
    assertProblem(
      await login({ username: u.username, password: 'second password' }),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  it('needs a token', async () => {
    const res = await setPassword(undefined, { current_password: 'whatever1', new_password: 'whatever2' });
    assertProblem(res, 401, 'TOKEN_MISSING');
  });
});
