// Authenticated requests are served from a per-node session cache; a change made on one node must
// reach every other node's cache at once (LISTEN/NOTIFY), so revoked or hidden access stops everywhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`not seen within 2 s: ${what}`);
}

describe('session cache across nodes', () => {
  let a: TestApp;
  let b: TestApp;

  before(async () => {
    a = await startTestApp({
      ADMIN_EMAIL: 'root@example.test',
      ADMIN_PASSWORD: 'admin password',
      ADMIN_USERNAME: 'root',
    });
    b = await startTestApp({}, {}, { database: a.db });
  });
  after(async () => {
    await b.stop({ keepDatabase: true });
    await a.stop();
  });

  it('ends a session on every node when it logs out on one', async () => {
    const u = await registerUser(a);
    assert.equal((await api(b, 'GET', '/api/v1/users/me', { token: u.access_token })).status, 200);
    assert.equal((await api(a, 'POST', '/api/v1/auth/logout', { token: u.access_token })).status, 204);
    await eventually(
      async () => (await api(b, 'GET', '/api/v1/users/me', { token: u.access_token })).status === 401,
      'the other node refusing the logged-out token',
    );
  });

  it('stops a hidden account on every node, and shows a new display name everywhere', async () => {
    const u = await registerUser(a);
    assert.equal((await api(b, 'GET', '/api/v1/users/me', { token: u.access_token })).status, 200);
    await api(a, 'PUT', '/api/v1/user/display-name', {
      token: u.access_token,
      body: { display_name: 'Renamed' },
    });
    await eventually(
      async () =>
        (await api(b, 'GET', '/api/v1/users/me', { token: u.access_token })).body.display_name === 'Renamed',
      'the new display name on the other node',
    );
    const admin = await api(a, 'POST', '/api/v1/auth/login', {
      body: { username: 'root', password: 'admin password' },
    });
    const hidden = await api(a, 'PATCH', `/api/v1/admin/users/${u.id}`, {
      token: admin.body.access_token,
      body: { status: 'hidden' },
    });
    assert.equal(hidden.status, 200);
    // On the node that made the change it holds at once; on the other as soon as the notification lands.
    assert.equal(
      (await api(a, 'GET', '/api/v1/users/me', { token: u.access_token })).body.code,
      'ACCOUNT_HIDDEN',
    );
    await eventually(
      async () => (await api(b, 'GET', '/api/v1/users/me', { token: u.access_token })).status === 403,
      'the other node refusing the hidden account',
    );
  });
});
