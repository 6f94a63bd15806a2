// Collections through HTTP: playlists and Watch later, who may see them, their items' order and pages,
// limits and validation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { insertVideo } from './helpers/discovery-rows.ts';
import { assertProblem, badFields } from './helpers/problems.ts';

type User = Awaited<ReturnType<typeof registerUser>>;

let t: TestApp;
let alice: User;
let bob: User;
let creator: User;

// Small limits, so the tests reach them.
const MAX_ITEMS = 6;
const MAX_COLLECTIONS = 12;

before(async () => {
  t = await startTestApp({
    COLLECTION_MAX_ITEMS: String(MAX_ITEMS),
    COLLECTIONS_PER_USER_MAX: String(MAX_COLLECTIONS),
  });
  [alice, bob, creator] = [await registerUser(t), await registerUser(t), await registerUser(t)];
});
after(() => t.stop());

const call = (method: string, path: string, user?: User, body?: unknown) =>
  api(t, method, path, { token: user?.access_token, body });

async function playlist(owner: User, body: Record<string, unknown> = {}) {
  const res = await call('POST', '/api/v1/collections', owner, { name: 'Mix', ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; name: string; visibility: string; items_count: number };
}

async function add(owner: User, collection: string, videoId: string, position?: number) {
  const res = await call('POST', `/api/v1/collections/${collection}/items`, owner, {
    video_id: videoId,
    position,
  });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res;
}

/** Every item id of a collection as `user` sees it, page by page. */
async function itemIds(collection: string, user?: User, limit = 2): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${cursor}` : '';
    const res = await call('GET', `/api/v1/collections/${collection}/items?limit=${limit}${q}`, user);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.items.length <= limit);
    ids.push(...res.body.items.map((i: { id: string }) => i.id));
    cursor = res.body.next_cursor;
  } while (cursor);
  return ids;
}

const videos = (n: number, owner = creator) =>
  Promise.all(Array.from({ length: n }, (_, i) => insertVideo(t, owner.id, { title: `Clip ${i}` })));

describe('playlists', () => {
  it('are made, read, changed and deleted by their owner', async () => {
    const made = await playlist(alice, { name: '  Road trip  ', description: 'Songs', visibility: 'public' });
    assert.equal(made.name, 'Road trip');
    assert.equal(made.visibility, 'public');
    assert.equal(made.items_count, 0);

    const got = await call('GET', `/api/v1/collections/${made.id}`, alice);
    assert.equal(got.status, 200);
    assert.equal(got.body.kind, 'playlist');
    assert.equal(got.body.description, 'Songs');

    const changed = await call('PATCH', `/api/v1/collections/${made.id}`, alice, {
      name: 'Road trip 2',
      visibility: 'private',
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.name, 'Road trip 2');
    assert.equal(changed.body.visibility, 'private');
    assert.equal(changed.body.description, 'Songs');

    const mine = await call('GET', '/api/v1/collections', alice);
    assert.ok(mine.body.items.some((c: { id: string }) => c.id === made.id));

    assert.equal((await call('DELETE', `/api/v1/collections/${made.id}`, alice)).status, 204);
    assertProblem(await call('GET', `/api/v1/collections/${made.id}`, alice), 404, 'COLLECTION_NOT_FOUND');
    assertProblem(await call('DELETE', `/api/v1/collections/${made.id}`, alice), 404, 'COLLECTION_NOT_FOUND');
  });

  it('refuse bad input with the field named', async () => {
    assert.deepEqual(badFields(await call('POST', '/api/v1/collections', alice, { name: '   ' })), ['name']);
    assert.deepEqual(badFields(await call('POST', '/api/v1/collections', alice, { name: 'x'.repeat(101) })), [
      'name',
    ]);
    assert.deepEqual(
      badFields(
        await call('POST', '/api/v1/collections', alice, { name: 'ok', description: 'd'.repeat(1001) }),
      ),
      ['description'],
    );
    assert.deepEqual(
      badFields(await call('POST', '/api/v1/collections', alice, { name: 'ok', visibility: 'secret' })),
      ['visibility'],
    );
    assert.deepEqual(badFields(await call('GET', '/api/v1/collections/not-an-id', alice)), ['id']);
    const c = await playlist(alice);
    assert.deepEqual(
      badFields(await call('POST', `/api/v1/collections/${c.id}/items`, alice, { video_id: 'nope' })),
      ['video_id'],
    );
    const [v] = await videos(1);
    await add(alice, c.id, v!);
    const both = await call('PUT', `/api/v1/collections/${c.id}/items/${v}/position`, alice, {
      index: 0,
      before_video_id: v,
    });
    assert.deepEqual(badFields(both), ['index']);
    assert.deepEqual(badFields(await call('GET', `/api/v1/collections/${c.id}/items?cursor=zzz`, alice)), [
      'cursor',
    ]);
    assertProblem(await call('POST', '/api/v1/collections', undefined, { name: 'x' }), 401, 'TOKEN_MISSING');
    await call('DELETE', `/api/v1/collections/${c.id}`, alice);
  });

  it('hold at most COLLECTION_MAX_ITEMS videos, and a user at most COLLECTIONS_PER_USER_MAX collections', async () => {
    const user = await registerUser(t);
    const c = await playlist(user);
    for (const v of await videos(MAX_ITEMS)) await add(user, c.id, v);
    const [extra] = await videos(1);
    const full = await call('POST', `/api/v1/collections/${c.id}/items`, user, { video_id: extra });
    assertProblem(full, 422, 'COLLECTION_FULL');
    assert.equal(full.body.errors[0].field, 'video_id');
    assert.equal((await call('GET', `/api/v1/collections/${c.id}`, user)).body.items_count, MAX_ITEMS);

    // At once: the limit holds exactly.
    const racing = await playlist(user);
    const answers = await Promise.all(
      (await videos(MAX_ITEMS + 3)).map((v) =>
        call('POST', `/api/v1/collections/${racing.id}/items`, user, { video_id: v }),
      ),
    );
    assert.deepEqual(answers.map((r) => r.status).sort(), [
      ...Array(MAX_ITEMS).fill(201),
      ...Array(3).fill(422),
    ]);
    assert.equal((await itemIds(racing.id, user, 100)).length, MAX_ITEMS);
    await call('DELETE', `/api/v1/collections/${racing.id}`, user);

    // Watch later counts as one of them.
    await call('GET', '/api/v1/collections/watch-later', user);
    for (let i = 2; i < MAX_COLLECTIONS; i++) await playlist(user);
    assertProblem(
      await call('POST', '/api/v1/collections', user, { name: 'One too many' }),
      422,
      'COLLECTION_LIMIT_REACHED',
    );
    await call('DELETE', `/api/v1/collections/${c.id}`, user);
    await playlist(user);
  });
});

describe('items', () => {
  it('keep their order across pages; adding at a position, moving and removing keep the others in place', async () => {
    const c = await playlist(alice);
    const [a, b, cc, d, e] = (await videos(5)) as [string, string, string, string, string];
    for (const v of [a, b, cc, d]) assert.equal((await add(alice, c.id, v)).status, 201);
    assert.deepEqual(await itemIds(c.id, alice), [a, b, cc, d]);

    // At a position: 0 is first.
    const first = await add(alice, c.id, e, 0);
    assert.equal(first.body.id, e);
    assert.equal(typeof first.body.added_at, 'string');
    assert.deepEqual(await itemIds(c.id, alice), [e, a, b, cc, d]);

    // Already there: nothing changes.
    const again = await add(alice, c.id, b, 0);
    assert.equal(again.status, 200);
    assert.deepEqual(await itemIds(c.id, alice, 3), [e, a, b, cc, d]);

    const move = (v: string, body: unknown) =>
      call('PUT', `/api/v1/collections/${c.id}/items/${v}/position`, alice, body);
    assert.equal((await move(d, { before_video_id: a })).status, 200);
    assert.deepEqual(await itemIds(c.id, alice), [e, d, a, b, cc]);
    assert.equal((await move(e, { after_video_id: cc })).status, 200);
    assert.deepEqual(await itemIds(c.id, alice), [d, a, b, cc, e]);
    assert.equal((await move(b, { index: 0 })).status, 200);
    assert.deepEqual(await itemIds(c.id, alice), [b, d, a, cc, e]);
    assert.equal((await move(b, { index: 99 })).status, 200);
    assert.deepEqual(await itemIds(c.id, alice), [d, a, cc, e, b]);
    assertProblem(await move(b, { before_video_id: b }), 404, 'COLLECTION_ITEM_NOT_FOUND');
    const [outside] = await videos(1);
    assertProblem(await move(outside!, { index: 0 }), 404, 'COLLECTION_ITEM_NOT_FOUND');

    assert.equal((await call('DELETE', `/api/v1/collections/${c.id}/items/${a}`, alice)).status, 204);
    assert.equal((await call('DELETE', `/api/v1/collections/${c.id}/items/${a}`, alice)).status, 204);
    assert.deepEqual(await itemIds(c.id, alice), [d, cc, e, b]);
    assert.equal((await call('GET', `/api/v1/collections/${c.id}`, alice)).body.items_count, 4);
  });

  it('keep a stable order when moves leave no room between two neighbours', async () => {
    const c = await playlist(alice);
    const [x, y, z] = (await videos(3)) as [string, string, string];
    for (const v of [x, y, z]) await add(alice, c.id, v);
    // Each move halves the gap after the first item; doubles run out of halves after ~50.
    let order = [x, y, z];
    for (let i = 0; i < 60; i++) {
      const last = order[2]!;
      const res = await call('PUT', `/api/v1/collections/${c.id}/items/${last}/position`, alice, {
        index: 1,
      });
      assert.equal(res.status, 200);
      order = [order[0]!, last, order[1]!];
    }
    assert.deepEqual(await itemIds(c.id, alice, 1), order);
  });

  it('are videos the owner may see: another user’s private video cannot be added', async () => {
    const c = await playlist(alice);
    const hidden = await insertVideo(t, creator.id, { title: 'Mine only', visibility: 'private' });
    assertProblem(
      await call('POST', `/api/v1/collections/${c.id}/items`, alice, { video_id: hidden }),
      404,
      'VIDEO_NOT_FOUND',
    );
  });
});

describe('who sees a collection', () => {
  it('a private one is invisible to others and to anonymous callers', async () => {
    const c = await playlist(alice, { visibility: 'private' });
    const [v] = await videos(1);
    await add(alice, c.id, v!);
    for (const who of [bob, undefined]) {
      assertProblem(await call('GET', `/api/v1/collections/${c.id}`, who), 404, 'COLLECTION_NOT_FOUND');
      assertProblem(await call('GET', `/api/v1/collections/${c.id}/items`, who), 404, 'COLLECTION_NOT_FOUND');
    }
    assertProblem(
      await call('PATCH', `/api/v1/collections/${c.id}`, bob, { name: 'x' }),
      404,
      'COLLECTION_NOT_FOUND',
    );
    assertProblem(await call('DELETE', `/api/v1/collections/${c.id}`, bob), 404, 'COLLECTION_NOT_FOUND');
    assertProblem(
      await call('POST', `/api/v1/collections/${c.id}/items`, bob, { video_id: v }),
      404,
      'COLLECTION_NOT_FOUND',
    );
    const listed = await call('GET', `/api/v1/users/${alice.id}/collections`, bob);
    assert.equal(listed.status, 200);
    assert.ok(!listed.body.items.some((x: { id: string }) => x.id === c.id));
  });

  it('a public one is seen by everyone and changed by its owner only', async () => {
    const c = await playlist(alice, { visibility: 'public', name: 'Shared' });
    for (const who of [bob, undefined]) {
      const got = await call('GET', `/api/v1/collections/${c.id}`, who);
      assert.equal(got.status, 200);
      assert.equal(got.body.name, 'Shared');
    }
    const listed = await call('GET', `/api/v1/users/${alice.id}/collections?limit=100`);
    assert.ok(listed.body.items.some((x: { id: string }) => x.id === c.id));
    assert.ok(listed.body.items.every((x: { visibility: string }) => x.visibility === 'public'));
    assertProblem(
      await call('PATCH', `/api/v1/collections/${c.id}`, bob, { name: 'x' }),
      403,
      'PERMISSION_DENIED',
    );
    assertProblem(await call('DELETE', `/api/v1/collections/${c.id}`, bob), 403, 'PERMISSION_DENIED');
    const [v] = await videos(1);
    assertProblem(
      await call('POST', `/api/v1/collections/${c.id}/items`, bob, { video_id: v }),
      403,
      'PERMISSION_DENIED',
    );
    assertProblem(
      await call('GET', `/api/v1/users/00000000-0000-7000-8000-000000000000/collections`),
      404,
      'USER_NOT_FOUND',
    );
  });

  it('shows others only the videos anyone may find: not one made private, not an unlisted one', async () => {
    const c = await playlist(alice, { visibility: 'public' });
    const open = await insertVideo(t, creator.id, { title: 'Open' });
    const later = await insertVideo(t, creator.id, { title: 'Soon private' });
    const link = await insertVideo(t, creator.id, { title: 'By link', visibility: 'unlisted' });
    for (const v of [open, later, link]) await add(alice, c.id, v);
    await sql`update videos set visibility = 'private' where id = ${later}`.execute(t.app.database.db);

    for (const who of [bob, undefined]) assert.deepEqual(await itemIds(c.id, who), [open]);
    // Its owner still sees the unlisted video whose link she holds, not the private one.
    assert.deepEqual(await itemIds(c.id, alice), [open, link]);
    assert.equal((await call('GET', `/api/v1/collections/${c.id}`, bob)).body.items_count, 1);
    assert.equal((await call('GET', `/api/v1/collections/${c.id}`, alice)).body.items_count, 3);
  });

  it('a public collection of a hidden account is gone for others', async () => {
    const owner = await registerUser(t);
    const c = await playlist(owner, { visibility: 'public' });
    await sql`update users set status = 'hidden' where id = ${owner.id}`.execute(t.app.database.db);
    assertProblem(await call('GET', `/api/v1/collections/${c.id}`, bob), 404, 'COLLECTION_NOT_FOUND');
    assertProblem(await call('GET', `/api/v1/users/${owner.id}/collections`, bob), 404, 'USER_NOT_FOUND');
  });
});

describe('Watch later', () => {
  it('exists for every user, private, addressed as watch-later or by its id', async () => {
    const user = await registerUser(t);
    const mine = await call('GET', '/api/v1/collections', user);
    assert.equal(mine.status, 200);
    const wl = mine.body.items.find((c: { kind: string }) => c.kind === 'watch_later');
    assert.ok(wl, 'Watch later is listed');
    assert.equal(wl.name, 'Watch later');
    assert.equal(wl.visibility, 'private');

    const byAlias = await call('GET', '/api/v1/collections/watch-later', user);
    assert.equal(byAlias.body.id, wl.id);
    const [v] = await videos(1);
    const added = await call('POST', '/api/v1/collections/watch-later/items', user, { video_id: v });
    assert.equal(added.status, 201);
    assert.deepEqual(await itemIds(wl.id, user), [v]);
    assert.deepEqual(await itemIds('watch-later', user), [v]);

    // Another user's Watch later is someone else's private collection; `watch-later` is their own.
    assertProblem(await call('GET', `/api/v1/collections/${wl.id}`, bob), 404, 'COLLECTION_NOT_FOUND');
    assert.notEqual((await call('GET', '/api/v1/collections/watch-later', bob)).body.id, wl.id);
    assertProblem(await call('GET', '/api/v1/collections/watch-later'), 401, 'TOKEN_MISSING');
  });

  it('cannot be renamed or deleted', async () => {
    const wl = (await call('GET', '/api/v1/collections/watch-later', alice)).body;
    assertProblem(
      await call('PATCH', `/api/v1/collections/${wl.id}`, alice, { name: 'Later' }),
      409,
      'COLLECTION_PROTECTED',
    );
    assertProblem(
      await call('PATCH', '/api/v1/collections/watch-later', alice, { visibility: 'public' }),
      409,
      'COLLECTION_PROTECTED',
    );
    assertProblem(
      await call('DELETE', '/api/v1/collections/watch-later', alice),
      409,
      'COLLECTION_PROTECTED',
    );
    assertProblem(await call('DELETE', `/api/v1/collections/${wl.id}`, alice), 409, 'COLLECTION_PROTECTED');
    const still = await call('GET', '/api/v1/collections/watch-later', alice);
    assert.equal(still.body.id, wl.id);
    assert.equal(still.body.name, 'Watch later');
  });
});

describe('the API description', () => {
  it('names the collection and viewing routes and their shapes', async () => {
    const res = await api(t, 'GET', '/api/openapi.json');
    assert.equal(res.status, 200);
    for (const path of [
      '/api/v1/collections/{id}/items/{video_id}/position',
      '/api/v1/users/{id}/collections',
      '/api/v1/videos/{id}/progress',
      '/api/v1/users/me/continue-watching',
    ]) {
      assert.ok(res.body.paths[path], path);
    }
    for (const name of ['Collection', 'CollectionItem', 'WatchedVideo', 'ViewerState']) {
      assert.ok(res.body.components.schemas[name], name);
    }
  });
});
