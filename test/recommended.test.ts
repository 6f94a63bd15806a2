import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { insertVideo, unpublish } from './helpers/discovery-rows.ts';
import { eventsDelivered } from './helpers/events.ts';
import { badFields } from './helpers/problems.ts';
import { waitFor } from './helpers/wait.ts';

let t: TestApp;
let admin: SignedIn;
let creator: { id: string };
const tagIds: Record<string, string> = {};

before(async () => {
  ({ t, admin } = await startAdminApp({ env: { OUTBOX_POLL_INTERVAL_MS: '100' } }));
  creator = await registerUser(t);
  for (const name of ['jazz', 'chess', 'cooking', 'unused']) {
    const made = await api(t, 'POST', '/api/v1/admin/tags', { token: admin.access_token, body: { name } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    tagIds[name] = made.body.id;
  }
});
after(() => t.stop());

const guest = () => randomBytes(16).toString('hex');
const prefer = async (session: string, names: string[]) => {
  const res = await api(t, 'PUT', '/api/v1/tags/my', {
    body: { session_id: session, tag_ids: names.map((n) => tagIds[n]) },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
};
const recommended = async (query: string, token?: string) => {
  const res = await api(t, 'GET', `/api/v1/videos/recommended${query}`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as { id: string; tags: string[]; access_tier: number }[];
};
/** Every id seen over enough calls to see all of a small candidate set. */
const seen = async (query: string, calls = 25, token?: string) => {
  const ids = new Set<string>();
  for (let i = 0; i < calls; i++) for (const v of await recommended(query, token)) ids.add(v.id);
  return ids;
};

describe('recommended videos', () => {
  let jazz: string[];
  let chess: string;
  let plain: string;
  const unlisted: string[] = [];

  before(async () => {
    jazz = [
      await insertVideo(t, creator.id, { title: 'Jazz one', tags: ['jazz'] }),
      await insertVideo(t, creator.id, { title: 'Jazz two', tags: ['jazz', 'cooking'] }),
      await insertVideo(t, creator.id, { title: 'Jazz three', tags: ['jazz'] }),
    ];
    chess = await insertVideo(t, creator.id, { title: 'Chess', tags: ['chess'] });
    plain = await insertVideo(t, creator.id, { title: 'No tags' });
    // Jazz videos nobody may be recommended: members-only, premium, private, unlisted, hidden,
    // unpublished, rejected, a draft.
    for (const v of [
      { accessTier: 1 as const },
      { accessTier: 2 as const },
      { visibility: 'private' as const },
      { visibility: 'unlisted' as const },
      { hidden: true },
      { publication: 'unpublished' as const },
      { publication: 'rejected' as const },
      { publication: 'draft' as const },
    ]) {
      unlisted.push(await insertVideo(t, creator.id, { title: 'Jazz secret', tags: ['jazz'], ...v }));
    }
  });

  it('is a static route beside /api/v1/videos/:id', async () => {
    const items = await recommended('');
    assert.ok(Array.isArray(items));
    const other = await api(t, 'GET', '/api/v1/videos/01890000-0000-7000-8000-000000000000');
    assert.equal(other.body.code, 'VIDEO_NOT_FOUND');
  });

  it("gives videos having any of the viewer's tags, only listed tier-0 ones, in random order", async () => {
    const s = guest();
    await prefer(s, ['jazz']);
    const ids = await seen(`?session_id=${s}`);
    assert.deepEqual([...ids].sort(), [...jazz].sort());
    for (const id of unlisted) assert.ok(!ids.has(id));

    const orders = new Set<string>();
    for (let i = 0; i < 20; i++) orders.add((await recommended(`?session_id=${s}`)).map((v) => v.id).join());
    assert.ok(orders.size > 1, 'the order changes from one request to the next');

    const both = guest();
    await prefer(both, ['jazz', 'chess']);
    const mixed = await seen(`?session_id=${both}`, 40);
    assert.deepEqual([...mixed].sort(), [...jazz, chess].sort());
    // A random subset of 1..N tags each time: sometimes chess alone, sometimes jazz without chess.
    const sets = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const items = await recommended(`?session_id=${both}`);
      sets.add(items.some((v) => v.id === chess) ? (items.length === 1 ? 'chess' : 'both') : 'jazz');
    }
    assert.ok(sets.has('chess') && sets.has('jazz'), [...sets].join());
  });

  it('a signed-in viewer uses their own tags; limit bounds the answer', async () => {
    const user = await registerUser(t);
    await api(t, 'PUT', '/api/v1/tags/my', { token: user.access_token, body: { tag_ids: [tagIds.chess] } });
    assert.deepEqual([...(await seen('', 5, user.access_token))], [chess]);
    const s = guest();
    await prefer(s, ['jazz']);
    assert.equal((await recommended(`?session_id=${s}&limit=2`)).length, 2);
    // More candidates than asked for three times over: drawn one by one, still distinct and all reachable.
    const overlap = guest();
    await prefer(overlap, ['jazz', 'cooking']);
    for (let i = 0; i < 10; i++)
      assert.equal((await recommended(`?session_id=${overlap}&limit=1`)).length, 1);
    assert.deepEqual([...(await seen(`?session_id=${overlap}&limit=1`, 60))].sort(), [...jazz].sort());
    assert.deepEqual(badFields(await api(t, 'GET', '/api/v1/videos/recommended?limit=51')), ['limit']);
    assert.deepEqual(badFields(await api(t, 'GET', '/api/v1/videos/recommended?session_id=x')), [
      'session_id',
    ]);
  });

  it('falls back to random public videos without tags, or when the tags match nothing', async () => {
    const listed = [...jazz, chess, plain];
    const anonymous = await seen('', 30);
    assert.deepEqual([...anonymous].sort(), listed.sort());
    const s = guest();
    await prefer(s, ['unused']);
    assert.deepEqual([...(await seen(`?session_id=${s}`, 30))].sort(), listed.sort());
  });

  it('is served from a cache, which drops a video the moment it is unpublished', async () => {
    const s = guest();
    await prefer(s, ['cooking']);
    const cooking = jazz[1]!;
    assert.deepEqual(
      (await recommended(`?session_id=${s}`)).map((v) => v.id),
      [cooking],
    );
    // A change made behind the catalog's back (no event) is not seen: the answer comes from the cache.
    await sql`update videos set title = 'Renamed quietly' where id = ${cooking}`.execute(t.app.database.db);
    const cached = await api(t, 'GET', `/api/v1/videos/recommended?session_id=${s}`);
    assert.equal(cached.body.items[0].title, 'Jazz two');

    await unpublish(t, cooking, creator.id);
    const started = Date.now();
    await waitFor(
      'the unpublished video to leave recommendations',
      async () => (await recommended(`?session_id=${s}`)).every((v) => v.id !== cooking),
      2000,
    );
    const tookMs = Date.now() - started;
    assert.ok(tookMs < 2000, `left after ${tookMs} ms`);
    // Gone from every list: the fallback too.
    await eventsDelivered(t);
    assert.ok(!(await seen('', 30)).has(cooking));
  });

  it('a hidden creator disappears from recommendations and comes back on restore', async () => {
    const other = await registerUser(t);
    const tag = await api(t, 'POST', '/api/v1/admin/tags', {
      token: admin.access_token,
      body: { name: 'go' },
    });
    tagIds.go = tag.body.id;
    const theirs = await insertVideo(t, other.id, { title: 'Go openings', tags: ['go'] });
    const s = guest();
    await prefer(s, ['go']);
    await waitFor(
      'their video to be recommended',
      async () => (await seen(`?session_id=${s}`, 5)).has(theirs),
      5000,
    );
    const status = (value: string) =>
      api(t, 'PATCH', `/api/v1/admin/users/${other.id}`, {
        token: admin.access_token,
        body: { status: value },
      });
    assert.equal((await status('hidden')).status, 200);
    await waitFor(
      'the hidden creator to leave',
      async () => !(await seen(`?session_id=${s}`, 5)).has(theirs),
      2000,
    );
    assert.ok(!(await seen('', 20)).has(theirs), 'nor in the fallback');
    assert.equal((await status('active')).status, 200);
    await waitFor(
      'the restored creator to return',
      async () => (await seen(`?session_id=${s}`, 5)).has(theirs),
      2000,
    );
  });

  it('a newly published video joins the lists of its tags', async () => {
    const s = guest();
    await prefer(s, ['chess']);
    assert.deepEqual([...(await seen(`?session_id=${s}`, 3))], [chess]);
    const fresh = await insertVideo(t, creator.id, {
      title: 'Chess two',
      tags: ['chess'],
      publication: 'draft',
    });
    assert.ok(!(await seen(`?session_id=${s}`, 3)).has(fresh));
    // Published as the videos module does: the row and its event in one transaction.
    const { emit } = await import('../src/platform/events/emit.ts');
    const { videoPublished } = await import('../src/modules/videos/index.ts');
    await t.app.database.db.transaction().execute(async (tx) => {
      await sql`update videos set publication = 'published', published_at = now() where id = ${fresh}`.execute(
        tx,
      );
      await emit(
        tx,
        videoPublished.create({
          aggregateId: fresh,
          payload: {
            video_id: fresh,
            owner_id: creator.id,
            title: 'Chess two',
            published_at: new Date().toISOString(),
          },
        }),
      );
    });
    await waitFor(
      'the published video to join',
      async () => (await seen(`?session_id=${s}`, 5)).has(fresh),
      2000,
    );
  });
});
