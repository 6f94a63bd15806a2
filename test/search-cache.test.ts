// Searches asked again are answered from each node's memory, and every catalog change empties it: a
// video that leaves the lists leaves search as soon as its event is relayed, on every node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { insertVideo, unpublish } from './helpers/discovery-rows.ts';
import { waitFor } from './helpers/wait.ts';

let t: TestApp;
let other: TestApp;

const found = async (app: TestApp, q: string): Promise<string[]> => {
  const res = await api(app, 'GET', `/api/v1/search?q=${q}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items.map((v: { id: string }) => v.id);
};

before(async () => {
  t = await startTestApp({ REGISTER_LIMIT_PER_IP: '1000' });
  // A second node on the same database: it must hear the change too.
  other = await startTestApp({}, {}, { database: t.db });
});
after(async () => {
  await other?.stop({ keepDatabase: true });
  await t?.stop();
});

describe('search cache', () => {
  it('answers a repeated search from memory until the catalog changes, on every node', async () => {
    const creator = await registerUser(t);
    const first = await insertVideo(t, creator.id, { title: 'Narwhal migration' });
    assert.deepEqual(await found(t, 'narwhal'), [first]);
    assert.deepEqual(await found(other, 'narwhal'), [first]);

    // A row written behind the catalog's back (no event): the remembered answer stands.
    const second = await insertVideo(t, creator.id, { title: 'Narwhal tusks' });
    assert.deepEqual(await found(t, 'narwhal'), [first], 'served from the cache');

    // A change through the catalog (an event) empties every node's cache.
    await unpublish(t, first, creator.id);
    for (const node of [t, other]) {
      await waitFor('the search to see the change', async () => {
        const ids = await found(node, 'narwhal');
        return ids.length === 1 && ids[0] === second ? true : undefined;
      });
    }
  });
});
