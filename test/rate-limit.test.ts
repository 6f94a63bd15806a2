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

  it('limits sign-in attempts per login identifier, whatever the address, in any case', async () => {
    const u = input();
    assert.equal((await register(newIp(), u)).status, 201);
    for (let i = 0; i < 3; i++) {
      assertProblem(
        await login(newIp(), { username: u.username, password: 'wrong password' }),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    // The right password from a fresh address is refused too, as is the same name in other case.
    assertLimited(await login(newIp(), { username: u.username, password: u.password }));
    assertLimited(await login(newIp(), { username: u.username.toUpperCase(), password: u.password }));
    // The limit is per identifier: the email is counted on its own, and other accounts are untouched.
    assert.equal((await login(newIp(), { email: u.email, password: u.password })).status, 200);
    const other = await register(newIp(), input());
    const otherLogin = await login(newIp(), {
      username: other.body.user.username,
      password: 'pw long enough',
    });
    assert.equal(otherLogin.status, 200);
  });

  it('counts successful sign-ins against the identifier too', async () => {
    const u = input();
    assert.equal((await register(newIp(), u)).status, 201);
    for (let i = 0; i < 3; i++)
      assert.equal((await login(newIp(), { email: u.email, password: u.password })).status, 200);
    assertLimited(await login(newIp(), { email: u.email.toUpperCase(), password: u.password }));
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

  it('leaves routes without limits alone', async () => {
    const u = await register(newIp(), input());
    for (let i = 0; i < 8; i++) {
      assert.equal((await api(t, 'GET', '/api/v1/users/me', { token: u.body.access_token })).status, 200);
    }
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
