// GET /users/me answers channel_id from a per-node memory; a channel deleted or made on one node must
// show on every other node at once (LISTEN/NOTIFY), not after the entry's lifetime.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { waitFor } from './helpers/wait.ts';

describe("an account's channel across nodes", () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    a = await startTestApp({}, { role: 'api' });
    b = await startTestApp({}, { role: 'api' }, { database: a.db });
  });
  after(async () => {
    await b.stop({ keepDatabase: true });
    await a.stop();
  });

  it('shows a deleted and a new channel on every node', async () => {
    const u = await registerUser(a);
    const channelOn = async (node: TestApp) =>
      (await api(node, 'GET', '/api/v1/users/me', { token: u.access_token })).body.channel_id as
        | string
        | null;
    const first = await channelOn(b);
    assert.ok(first);
    assert.equal(await channelOn(a), first);

    assert.equal((await api(a, 'DELETE', '/api/v1/user/channel', { token: u.access_token })).status, 204);
    assert.equal(await channelOn(a), null);
    // Well within the entry's lifetime (60 s): only the notification can have cleared it.
    await waitFor('the other node seeing no channel', async () => (await channelOn(b)) === null, 2000);

    const made = await api(b, 'POST', '/api/v1/user/channel', {
      token: u.access_token,
      body: { handle: `n_${Date.now().toString(36)}`, name: 'Again' },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await waitFor(
      'the other node seeing the new channel',
      async () => (await channelOn(a)) === made.body.id,
      2000,
    );
  });
});
