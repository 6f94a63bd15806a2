import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import {
  claimsOf,
  signAccessToken,
  TEST_JWT_SECRET,
  unsignedCopy,
  withBrokenSignature,
  withPayload,
} from './helpers/tokens.ts';

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
const meWith = (authorization: string) => api(t, 'GET', '/api/v1/users/me', { headers: { authorization } });
const refresh = (refresh_token: unknown) =>
  api(t, 'POST', '/api/v1/auth/refresh', { body: { refresh_token } });
const login = (u: { username: string; password: string }) =>
  api(t, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } });
const now = () => Math.floor(Date.now() / 1000);

describe('access tokens', () => {
  it('answers 401 TOKEN_MISSING without a token', async () => {
    assertProblem(await api(t, 'GET', '/api/v1/users/me'), 401, 'TOKEN_MISSING');
    assertProblem(await api(t, 'POST', '/api/v1/auth/logout'), 401, 'TOKEN_MISSING');
    assertProblem(await meWith(''), 401, 'TOKEN_MISSING');
  });

  it('answers 401 TOKEN_INVALID for a malformed Authorization header', async () => {
    const u = await registerUser(t);
    for (const header of [
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      u.access_token,
      'Bearer',
      'Bearer ',
      `Bearer ${u.access_token} extra`,
      `Token ${u.access_token}`,
    ]) {
      assertProblem(await meWith(header), 401, 'TOKEN_INVALID');
    }
    for (const garbage of ['garbage', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9..', u.refresh_token]) {
      assertProblem(await me(garbage), 401, 'TOKEN_INVALID');
    }
    // The scheme is case-insensitive.
    assert.equal((await meWith(`bearer ${u.access_token}`)).status, 200);
  });

  it('accepts a token signed with the secret and the expected claims', async () => {
    const u = await registerUser(t);
    const { sub, sid } = claimsOf(u.access_token);
    const forged = await signAccessToken({ sub, sid });
    assert.equal((await me(forged)).status, 200);
  });

  it('answers 401 TOKEN_EXPIRED for an expired token', async () => {
    const u = await registerUser(t);
    const { sub, sid } = claimsOf(u.access_token);
    const expired = await signAccessToken({ sub, sid }, { issuedAt: now() - 1000, expiresAt: now() - 100 });
    assertProblem(await me(expired), 401, 'TOKEN_EXPIRED');
    const justExpired = await signAccessToken({ sub, sid }, { expiresAt: now() - 1 });
    assertProblem(await me(justExpired), 401, 'TOKEN_EXPIRED');
  });

  it('answers 401 TOKEN_INVALID for a well-signed token without an expiry', async () => {
    const u = await registerUser(t);
    const { sub, sid } = claimsOf(u.access_token);
    const forever = await signAccessToken({ sub, sid }, { expiresAt: null });
    assert.equal(claimsOf(forever).exp, undefined);
    assertProblem(await me(forever), 401, 'TOKEN_INVALID');
    // The same claims with an expiry pass: only the missing `exp` was refused.
    assert.equal((await me(await signAccessToken({ sub, sid }))).status, 200);
  });

  it('answers 401 TOKEN_INVALID for a tampered payload or signature', async () => {
    const u = await registerUser(t);
    const other = await registerUser(t);
    assertProblem(await me(withPayload(u.access_token, { sub: other.id })), 401, 'TOKEN_INVALID');
    assertProblem(await me(withPayload(u.access_token, { exp: now() + 86_400 })), 401, 'TOKEN_INVALID');
    assertProblem(await me(withBrokenSignature(u.access_token)), 401, 'TOKEN_INVALID');
    const [header, payload] = u.access_token.split('.');
    assertProblem(await me(`${header}.${payload}.`), 401, 'TOKEN_INVALID');
    // The untouched token still works.
    assert.equal((await me(u.access_token)).status, 200);
  });

  it('answers 401 TOKEN_INVALID for an unsigned alg "none" token', async () => {
    const u = await registerUser(t);
    assertProblem(await me(unsignedCopy(u.access_token)), 401, 'TOKEN_INVALID');
  });

  it('answers 401 TOKEN_INVALID for a token signed with another key', async () => {
    const u = await registerUser(t);
    const { sub, sid } = claimsOf(u.access_token);
    const token = await signAccessToken({ sub, sid }, { secret: 'another-secret-of-the-same-length-000000' });
    assertProblem(await me(token), 401, 'TOKEN_INVALID');
  });

  it('pins the algorithm: HS384 or HS512 with the right secret is refused', async () => {
    const u = await registerUser(t);
    const { sub, sid } = claimsOf(u.access_token);
    for (const alg of ['HS384', 'HS512'] as const) {
      assertProblem(await me(await signAccessToken({ sub, sid }, { alg })), 401, 'TOKEN_INVALID');
    }
  });

  it('checks issuer, audience and the claims Vireo relies on', async () => {
    const u = await registerUser(t);
    const { sub, sid } = claimsOf(u.access_token);
    const cases = [
      signAccessToken({ sub, sid }, { issuer: 'someone-else' }),
      signAccessToken({ sub, sid }, { audience: 'another-api' }),
      signAccessToken({ sub }),
      signAccessToken({ sid }),
      signAccessToken({ sub, sid: 42 }),
    ];
    for (const token of await Promise.all(cases)) assertProblem(await me(token), 401, 'TOKEN_INVALID');
  });

  it('answers 401 TOKEN_INVALID for a well-signed token naming no real session', async () => {
    const u = await registerUser(t);
    const other = await registerUser(t);
    const { sub, sid } = claimsOf(u.access_token);
    const cases = [
      signAccessToken({ sub, sid: uuidv7() }),
      signAccessToken({ sub: uuidv7(), sid }),
      // Another account's id with this account's session.
      signAccessToken({ sub: other.id, sid }),
      signAccessToken({ sub, sid: 'not-a-uuid' }),
      signAccessToken({ sub: 'not-a-uuid', sid }),
    ];
    for (const token of await Promise.all(cases)) assertProblem(await me(token), 401, 'TOKEN_INVALID');
  });
});

describe('POST /api/v1/auth/refresh', () => {
  it('rotates: answers new tokens, and the new ones work', async () => {
    const u = await registerUser(t);
    const res = await refresh(u.refresh_token);
    assert.equal(res.status, 200);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.expires_in, 900);
    assert.equal(res.body.user.id, u.id);
    assert.match(res.body.refresh_token, /^rt_/);
    assert.notEqual(res.body.refresh_token, u.refresh_token);
    // Same session, still the same family.
    assert.equal(claimsOf(res.body.access_token).sid, claimsOf(u.access_token).sid);
    assert.equal((await me(res.body.access_token)).status, 200);
    const again = await refresh(res.body.refresh_token);
    assert.equal(again.status, 200);
    assert.notEqual(again.body.refresh_token, res.body.refresh_token);
  });

  it('treats a reused refresh token as a leak: REFRESH_TOKEN_REUSED and the whole session ends', async () => {
    const u = await registerUser(t);
    const elsewhere = await login(u);
    assert.equal(elsewhere.status, 200);
    const first = await refresh(u.refresh_token);
    const second = await refresh(first.body.refresh_token);
    assert.equal(second.status, 200);

    assertProblem(await refresh(u.refresh_token), 401, 'REFRESH_TOKEN_REUSED');
    // Every token of the family stops working: the newest refresh token and every access token.
    assertProblem(await refresh(second.body.refresh_token), 401, 'SESSION_REVOKED');
    for (const token of [u.access_token, first.body.access_token, second.body.access_token]) {
      assertProblem(await me(token), 401, 'SESSION_REVOKED');
    }
    // Presenting the leaked token again still says so.
    assertProblem(await refresh(first.body.refresh_token), 401, 'REFRESH_TOKEN_REUSED');

    // The account's other session is another family and keeps working.
    assert.equal((await me(elsewhere.body.access_token)).status, 200);
    assert.equal((await refresh(elsewhere.body.refresh_token)).status, 200);
    // And signing in again opens a working session.
    const back = await login(u);
    assert.equal((await me(back.body.access_token)).status, 200);
  });

  it('lets only one of two simultaneous uses of a refresh token win', async () => {
    const u = await registerUser(t);
    const results = await Promise.all([refresh(u.refresh_token), refresh(u.refresh_token)]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 401]);
    const loser = results.find((r) => r.status === 401)!;
    assertProblem(loser, 401, 'REFRESH_TOKEN_REUSED');
  });

  it('answers 401 TOKEN_INVALID for an unknown or garbage refresh token', async () => {
    const u = await registerUser(t);
    for (const token of [
      'garbage',
      'rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      u.access_token.slice(0, 200),
    ]) {
      assertProblem(await refresh(token), 401, 'TOKEN_INVALID');
    }
  });

  it('names refresh_token when it is missing, empty, too long or not a string', async () => {
    for (const body of [
      {},
      { refresh_token: '' },
      { refresh_token: 'x'.repeat(201) },
      { refresh_token: 7 },
    ]) {
      const res = await api(t, 'POST', '/api/v1/auth/refresh', { body });
      assert.deepEqual(badFields(res), ['refresh_token'], JSON.stringify(body).slice(0, 40));
    }
  });
});

describe('POST /api/v1/auth/logout', () => {
  it('ends the current session only', async () => {
    const u = await registerUser(t);
    const other = await login(u);
    const res = await api(t, 'POST', '/api/v1/auth/logout', { token: u.access_token });
    assert.equal(res.status, 204);
    assert.equal(res.body, null);

    assertProblem(await me(u.access_token), 401, 'SESSION_REVOKED');
    assertProblem(await refresh(u.refresh_token), 401, 'SESSION_REVOKED');
    assertProblem(
      await api(t, 'POST', '/api/v1/auth/logout', { token: u.access_token }),
      401,
      'SESSION_REVOKED',
    );

    assert.equal((await me(other.body.access_token)).status, 200);
    assert.equal((await refresh(other.body.refresh_token)).status, 200);
  });

  it('ends the session of a refreshed token too', async () => {
    const u = await registerUser(t);
    const rotated = await refresh(u.refresh_token);
    const out = await api(t, 'POST', '/api/v1/auth/logout', { token: rotated.body.access_token });
    assert.equal(out.status, 204);
    assertProblem(await me(u.access_token), 401, 'SESSION_REVOKED');
    assertProblem(await refresh(rotated.body.refresh_token), 401, 'SESSION_REVOKED');
  });
});
