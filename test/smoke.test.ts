import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';

describe('smoke', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.stop());

  it('is ready and serves the signed-in account', async () => {
    assert.equal((await api(t, 'GET', '/readyz')).status, 200);
    const u = await registerUser(t);
    const me = await api(t, 'GET', '/api/v1/users/me', { token: u.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.username, u.username);
  });
});
