import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiResponse, api, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { TEST_JWT_SECRET } from './helpers/tokens.ts';

const WINDOW_SECONDS = 60;

/** A 429 RATE_LIMITED problem with a whole number of seconds in Retry-After, within the window. */
function assertLimited(res: ApiResponse, windowSeconds = WINDOW_SECONDS): number {
  assertProblem(res, 429, 'RATE_LIMITED');
  const retryAfter = res.headers.get('retry-after') ?? '';
  assert.match(retryAfter, /^\d+$/, `Retry-After is a number of seconds: "${retryAfter}"`);
  const seconds = Number(retryAfter);
  assert.ok(seconds >= 1 && seconds <= windowSeconds, `Retry-After ${seconds} within the window`);
  return seconds;
}

let ipCounter = 0;
/** A client address never used before in this file. */
const newIp = () => {
  ipCounter++;
  return `10.${(ipCounter >> 8) & 255}.${ipCounter & 255}.7`;
};

describe('rate limits behind a trusted proxy', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      JWT_SECRET: TEST_JWT_SECRET,
      TRUST_PROXY: 'true',
      LOGIN_LIMIT_PER_ACCOUNT: '3',
      LOGIN_LIMIT_PER_IP: '5',
      REGISTER_LIMIT_PER_IP: '2',
      // High enough that only the test of the backoff, which starts its own app, reaches it.
      LOGIN_BACKOFF_AFTER_FAILURES: '1000',
      RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
    });
  });
  after(() => t.stop());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const register = (ip: string, body: unknown) =>
    api(t, 'POST', '/api/v1/auth/register', { body, headers: from(ip) });
  const login = (ip: string, body: unknown) =>
    api(t, 'POST', '/api/v1/auth/login', { body, headers: from(ip) });
  let n = 0;
  const input = () => {
    n++;
    return {
      username: `rl_${n}_${Date.now() % 1e6}`,
      email: `rl${n}.${Date.now()}@example.test`,
      password: 'pw long enough',
    };
  };

  it('limits registrations per address and answers Retry-After', async () => {
    const ip = newIp();
    assert.equal((await register(ip, input())).status, 201);
    assert.equal((await register(ip, input())).status, 201);
    const refused = input();
    assertLimited(await register(ip, refused));
    assertLimited(await register(ip, input()));
    // The refused registration made no account.
    assertProblem(
      await login(newIp(), { username: refused.username, password: refused.password }),
      401,
      'INVALID_CREDENTIALS',
    );
    // Another address still may.
    assert.equal((await register(newIp(), input())).status, 201);
  });

  it('does not count a registration refused for invalid input', async () => {
    const ip = newIp();
    for (let i = 0; i < 3; i++) badFields(await register(ip, { username: 'x' }));
    assert.equal((await register(ip, input())).status, 201);
    assert.equal((await register(ip, input())).status, 201);
    assertLimited(await register(ip, input()));
  });

  it('counts failures per account, whichever of its names is given', async () => {
    const u = input();
    assert.equal((await register(newIp(), u)).status, 201);
    const ip = newIp();
    for (const by of [{ username: u.username }, { email: u.email }, { username: u.username.toUpperCase() }]) {
      assertProblem(await login(ip, { ...by, password: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    }
    // Three failures spent the account's budget at this address, by name and by email alike.
    assertLimited(await login(ip, { email: u.email, password: u.password }));
    assertLimited(await login(ip, { username: u.username, password: u.password }));
    assertLimited(await login(ip, { email: u.email.toUpperCase(), password: u.password }));
  });

  it('locks out the guessing address, not the owner', async () => {
    const u = input();
    assert.equal((await register(newIp(), u)).status, 201);
    const attacker = newIp();
    for (let i = 0; i < 3; i++) {
      assertProblem(
        await login(attacker, { username: u.username, password: 'wrong password' }),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    assertLimited(await login(attacker, { username: u.username, password: u.password }));
    // The owner, from another address, signs in at once, by name or email.
    const owner = newIp();
    assert.equal((await login(owner, { username: u.username, password: u.password })).status, 200);
    assert.equal((await login(owner, { email: u.email, password: u.password })).status, 200);
    // Other accounts are untouched from the guessing address too.
    const other = input();
    assert.equal((await register(newIp(), other)).status, 201);
    assert.equal((await login(attacker, { username: other.username, password: other.password })).status, 200);
  });

  it("forgets an address's failures once it signs in", async () => {
    const u = input();
    assert.equal((await register(newIp(), u)).status, 201);
    const ip = newIp();
    const wrong = { username: u.username, password: 'wrong password' };
    for (let i = 0; i < 2; i++) assertProblem(await login(ip, wrong), 401, 'INVALID_CREDENTIALS');
    assert.equal((await login(ip, { username: u.username, password: u.password })).status, 200);
    // Two more failures are a fresh count: the second would be the fourth, past the limit, otherwise.
    for (let i = 0; i < 2; i++) assertProblem(await login(ip, wrong), 401, 'INVALID_CREDENTIALS');
  });

  it('limits a name that matches no account the same way', async () => {
    const ip = newIp();
    const nobody = { username: `nobody_${Date.now() % 1e6}`, password: 'wrong password' };
    for (let i = 0; i < 3; i++) assertProblem(await login(ip, nobody), 401, 'INVALID_CREDENTIALS');
    assertLimited(await login(ip, nobody));
    assertProblem(await login(newIp(), nobody), 401, 'INVALID_CREDENTIALS');
  });

  it('does not count successful sign-ins against the account', async () => {
    const u = input();
    assert.equal((await register(newIp(), u)).status, 201);
    const ip = newIp();
    for (let i = 0; i < 4; i++)
      assert.equal((await login(ip, { email: u.email, password: u.password })).status, 200);
  });

  it('limits sign-in attempts per address across every identifier', async () => {
    const ip = newIp();
    const real = input();
    assert.equal((await register(newIp(), real)).status, 201);
    for (let i = 0; i < 5; i++) {
      const res = await login(ip, { username: `nobody_${i}`, password: 'wrong password' });
      assertProblem(res, 401, 'INVALID_CREDENTIALS');
    }
    const limited = await login(ip, { username: real.username, password: real.password });
    assertLimited(limited);
    assertLimited(await login(ip, { email: real.email, password: real.password }));
    // The account itself is fine from elsewhere: the address limit spent none of its budget.
    assert.equal((await login(newIp(), { username: real.username, password: real.password })).status, 200);
    // Registration has a budget of its own.
    assert.equal((await register(ip, input())).status, 201);
  });

  it('limits wrong current passwords on a password change, per account', async () => {
    const u = input();
    const registered = await register(newIp(), u);
    const change = (token: string, current_password: string) =>
      api(t, 'PUT', '/api/v1/user/password', {
        token,
        body: { current_password, new_password: 'a brand new passphrase' },
      });
    for (let i = 0; i < 3; i++) {
      assertProblem(await change(registered.body.access_token, 'wrong password'), 401, 'INVALID_CREDENTIALS');
    }
    assertLimited(await change(registered.body.access_token, u.password));
    // Another session of the account shares the budget; signing in does not.
    const again = await login(newIp(), { username: u.username, password: u.password });
    assert.equal(again.status, 200);
    assertLimited(await change(again.body.access_token, u.password));
    // Another account may still change its password.
    const v = input();
    const other = await register(newIp(), v);
    assert.equal((await change(other.body.access_token, v.password)).status, 204);
  });

  it('leaves routes without limits alone', async () => {
    const u = await register(newIp(), input());
    for (let i = 0; i < 8; i++) {
      assert.equal((await api(t, 'GET', '/api/v1/users/me', { token: u.body.access_token })).status, 200);
    }
  });
});

describe('sign-in backoff after failures from many addresses', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      JWT_SECRET: TEST_JWT_SECRET,
      TRUST_PROXY: 'true',
      LOGIN_LIMIT_PER_IP: '1000',
      LOGIN_LIMIT_PER_ACCOUNT: '1000',
      REGISTER_LIMIT_PER_IP: '1000',
      LOGIN_BACKOFF_AFTER_FAILURES: '4',
      LOGIN_BACKOFF_MAX_SECONDS: '600',
    });
  });
  after(() => t.stop());

  const login = (ip: string, body: unknown) =>
    api(t, 'POST', '/api/v1/auth/login', { body, headers: { 'x-forwarded-for': ip } });

  it('makes new addresses wait, doubling, while the owner signs in from where they are signed in', async () => {
    const home = newIp();
    const u = {
      username: `bo_${Date.now() % 1e6}`,
      email: `bo${Date.now()}@example.test`,
      password: 'pw long enough',
    };
    const registered = await api(t, 'POST', '/api/v1/auth/register', {
      body: u,
      headers: { 'x-forwarded-for': home },
    });
    assert.equal(registered.status, 201);
    const wrong = { username: u.username, password: 'wrong password' };
    // One guess each from four addresses: no address reaches its own limit.
    for (let i = 0; i < 4; i++) assertProblem(await login(newIp(), wrong), 401, 'INVALID_CREDENTIALS');
    // A fifth address must wait, even with the right password, and by email too.
    assert.equal(assertLimited(await login(newIp(), { username: u.username, password: u.password })), 1);
    assertLimited(await login(newIp(), { email: u.email, password: u.password }));
    // The owner, at the address of a live session, is let in at once.
    assert.equal((await login(home, { email: u.email, password: u.password })).status, 200);
    // After the wait a new address may try once; another failure doubles the wait.
    await new Promise((r) => setTimeout(r, 1100));
    assertProblem(await login(newIp(), wrong), 401, 'INVALID_CREDENTIALS');
    assert.equal(assertLimited(await login(newIp(), wrong)), 2);
    assert.equal((await login(home, { username: u.username, password: u.password })).status, 200);
    // Another account is not slowed down.
    const other = await api(t, 'POST', '/api/v1/auth/register', {
      body: {
        username: `bo2_${Date.now() % 1e6}`,
        email: `bo2${Date.now()}@example.test`,
        password: 'pw long enough',
      },
      headers: { 'x-forwarded-for': newIp() },
    });
    const otherLogin = await login(newIp(), {
      username: other.body.user.username,
      password: 'pw long enough',
    });
    assert.equal(otherLogin.status, 200);
  });
});

describe('rate limits without a trusted proxy', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      JWT_SECRET: TEST_JWT_SECRET,
      REGISTER_LIMIT_PER_IP: '1',
      RATE_LIMIT_WINDOW_SECONDS: '1',
    });
  });
  after(() => t.stop());

  const register = (headers: Record<string, string>) =>
    api(t, 'POST', '/api/v1/auth/register', {
      headers,
      body: {
        username: `nx_${newIp().replaceAll('.', '_')}`,
        email: `${newIp()}@example.test`,
        password: 'pw long enough',
      },
    });

  it('ignores X-Forwarded-For, and a new window opens after Retry-After', async () => {
    assert.equal((await register({ 'x-forwarded-for': '192.0.2.1' })).status, 201);
    const spoofed = await register({ 'x-forwarded-for': '192.0.2.2' });
    const wait = assertLimited(spoofed, 1);
    assert.equal(wait, 1);
    await new Promise((r) => setTimeout(r, wait * 1000 + 100));
    assert.equal((await register({})).status, 201);
    assertLimited(await register({}), 1);
  });
});
