// The feed (subscribed channels and followed users, newest first, by cursor) and recommendations (the
// following / similar / popular mix with reasons, deduplicated, without what the viewer watched).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { insertVideo } from './helpers/discovery-rows.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import {
  hoursAgo,
  insertFollow,
  insertLiked,
  insertLikes,
  insertMembership,
  insertUsers,
  insertViews,
  insertWatched,
  recomputeTrending,
  setPublishedAt,
} from './helpers/trending-rows.ts';

let t: TestApp;
let viewer: { id: string; access_token: string };
/** The viewer is subscribed to A's channel and follows B; C and E are strangers to them. */
let A: string;
let B: string;
let C: string;
let E: string;
let fans: string[];

before(async () => {
  t = await startTestApp({ REGISTER_LIMIT_PER_IP: '1000' });
  viewer = await registerUser(t);
  A = (await registerUser(t)).id;
  [B, C, E] = (await insertUsers(t, 3)) as [string, string, string];
  fans = await insertUsers(t, 12);
  await insertMembership(t, A, viewer.id, 1);
  await insertFollow(t, viewer.id, B);
});
after(() => t.stop());

interface Item {
  id: string;
  access_tier: number;
  tags: string[];
  reason?: string;
}

const db = () => t.app.database.db;

/** A video published `h` hours ago. */
async function video(
  owner: string,
  title: string,
  h: number,
  extra: Parameters<typeof insertVideo>[2] = { title },
) {
  const id = await insertVideo(t, owner, { ...extra, title });
  await setPublishedAt(t, id, hoursAgo(h));
  return id;
}

async function feedPages(limit: number) {
  const pages: Item[][] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${cursor}` : '';
    const res = await api(t, 'GET', `/api/v1/feed?limit=${limit}${q}`, { token: viewer.access_token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.items.length <= limit);
    pages.push(res.body.items);
    cursor = res.body.next_cursor;
  } while (cursor);
  return pages;
}

async function recommendations(path = '/api/v1/recommendations/videos', limit = 10, token?: string) {
  const res = await api(t, 'GET', `${path}?limit=${limit}`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as Item[];
}

describe('popular videos before the first ranking', () => {
  it('answers anonymous callers the most viewed videos', async () => {
    const most = await video(E, 'Most viewed', 50);
    const less = await video(E, 'Less viewed', 50);
    await insertViews(t, most, 90, 5);
    await insertViews(t, less, 40, 5);
    const items = await recommendations();
    assert.deepEqual(
      items.map((i) => i.id),
      [most, less],
    );
    assert.ok(items.every((i) => i.reason === 'popular'));
  });
});

describe('the feed', () => {
  const expected: string[] = [];
  let hiddenLater: string;

  before(async () => {
    // Newest first: a1 (1 h), b1 (2 h), members (3 h), a2 (4 h), b2 (5 h), a3 (6 h).
    const a1 = await video(A, 'A one', 1);
    const b1 = await video(B, 'B one', 2);
    const members = await video(A, 'A members', 3, { title: '', accessTier: 1 });
    const a2 = await video(A, 'A two', 4);
    const b2 = await video(B, 'B two', 5);
    const a3 = await video(A, 'A three', 6);
    expected.push(a1, b1, members, a2, b2, a3);
    hiddenLater = b1;
    // Never in the feed: a stranger's video, and the followed ones nobody may list.
    await video(C, 'C stranger', 1);
    await video(A, 'A hidden', 1, { title: '', hidden: true });
    await video(A, 'A private', 1, { title: '', visibility: 'private' });
    await video(B, 'B unlisted', 1, { title: '', visibility: 'unlisted' });
    await insertVideo(t, B, { title: 'B draft', publication: 'draft' });
  });

  it('lists the videos of subscribed channels and followed users, newest first, page by page', async () => {
    const pages = await feedPages(2);
    assert.equal(pages.length, 3);
    const items = pages.flat();
    assert.deepEqual(
      items.map((i) => i.id),
      expected,
    );
    assert.equal(items[2]!.access_tier, 1, 'members-only videos are listed with their tier');
    const whole = await feedPages(100);
    assert.deepEqual(
      whole.flat().map((i) => i.id),
      expected,
    );
  });

  it('drops a video the moment it may no longer be listed, and a hidden owner', async () => {
    await sql`update videos set hidden = true where id = ${hiddenLater}`.execute(db());
    let ids = (await feedPages(100)).flat().map((i) => i.id);
    assert.deepEqual(
      ids,
      expected.filter((id) => id !== hiddenLater),
    );
    await sql`update users set status = 'hidden' where id = ${B}`.execute(db());
    ids = (await feedPages(100)).flat().map((i) => i.id);
    assert.equal(ids.length, 4, 'only A is left');
    await sql`update users set status = 'active' where id = ${B}`.execute(db());
    await sql`update videos set hidden = false where id = ${hiddenLater}`.execute(db());
  });

  it('is for signed-in callers, and checks its query', async () => {
    assertProblem(await api(t, 'GET', '/api/v1/feed'), 401, 'TOKEN_MISSING');
    const token = viewer.access_token;
    assert.deepEqual(badFields(await api(t, 'GET', '/api/v1/feed?limit=0', { token })), ['limit']);
    assert.deepEqual(badFields(await api(t, 'GET', '/api/v1/feed?limit=101', { token })), ['limit']);
    assert.deepEqual(badFields(await api(t, 'GET', '/api/v1/feed?cursor=abc', { token })), ['cursor']);
    const stranger = await registerUser(t);
    const empty = await api(t, 'GET', '/api/v1/feed', { token: stranger.access_token });
    assert.deepEqual(empty.body, { items: [], next_cursor: null });
  });
});

describe('recommendations', () => {
  const ids: Record<string, string> = {};

  before(async () => {
    // What the viewer liked and watched: chess and openings (by a stranger).
    ids.liked = await video(C, 'Liked', 30, { title: '', tags: ['chess'] });
    await insertLiked(t, viewer.id, ids.liked, hoursAgo(20));
    ids.watched = await video(C, 'Watched', 30, { title: '', tags: ['chess', 'openings'] });
    await insertWatched(t, viewer.id, ids.watched);
    // Similar, unseen: three of them; a fourth already watched; one of the viewer's own.
    ids.s1 = await video(C, 'Similar 1', 10, { title: '', tags: ['chess'] });
    ids.s2 = await video(E, 'Similar 2', 10, { title: '', tags: ['openings', 'history'] });
    ids.s3 = await video(C, 'Similar 3', 10, { title: '', tags: ['chess', 'endgames'] });
    ids.sWatched = await video(C, 'Similar watched', 10, { title: '', tags: ['chess'] });
    await insertWatched(t, viewer.id, ids.sWatched);
    ids.own = await video(viewer.id, 'My own chess', 10, { title: '', tags: ['chess'] });
    // Popular this week (by strangers), and one of them watched; the viewer's own video trends too.
    for (const name of ['p1', 'p2', 'p3', 'p4', 'pWatched']) {
      // The watched one has no tags, so that it adds no interest of its own.
      ids[name] = await video(E, name, 48, { title: '', tags: name === 'pWatched' ? [] : ['cooking'] });
      await insertViews(t, ids[name]!, 300);
      await insertLikes(t, ids[name]!, fans, hoursAgo(3));
    }
    await insertWatched(t, viewer.id, ids.pWatched!);
    await insertViews(t, ids.own, 1000);
    await insertLikes(t, ids.own, fans, hoursAgo(3));
    // A followed video the viewer watched.
    ids.fWatched = await video(A, 'A watched', 0.5);
    await insertWatched(t, viewer.id, ids.fWatched);
    await recomputeTrending(t);
  });

  it('mixes following, similar and popular with reasons, without repeats or what was watched', async () => {
    const items = await recommendations('/api/v1/recommendations/videos', 10, viewer.access_token);
    assert.equal(items.length, 10);
    assert.equal(new Set(items.map((i) => i.id)).size, 10, 'no video twice');
    const by = (reason: string) => items.filter((i) => i.reason === reason);
    assert.equal(by('following').length, 4, 'about 40 % following');
    assert.equal(by('similar').length, 3, 'about 30 % similar');
    assert.equal(by('popular').length, 3, 'the rest popular');
    assert.deepEqual(
      items.slice(0, 3).map((i) => i.reason),
      ['following', 'similar', 'popular'],
      'interleaved',
    );
    const seen = new Set(items.map((i) => i.id));
    for (const name of ['watched', 'sWatched', 'pWatched', 'fWatched', 'own', 'liked']) {
      assert.ok(!seen.has(ids[name]!), `${name} is not recommended`);
    }
    assert.deepEqual(
      new Set(by('similar').map((i) => i.id)),
      new Set([ids.s1, ids.s2, ids.s3]),
      'similar: tags of what the viewer liked and watched',
    );
    const followed = new Set([A, B]);
    for (const i of by('following')) {
      const { rows } = await sql<{
        owner_id: string;
      }>`select owner_id from videos where id = ${i.id}`.execute(db());
      assert.ok(followed.has(rows[0]!.owner_id));
    }
    for (const i of by('popular')) assert.ok([ids.p1, ids.p2, ids.p3, ids.p4].includes(i.id));
    // The discover page's "for you" is the same engine.
    const forYou = await recommendations('/api/v1/feed/discover/for-you', 10, viewer.access_token);
    assert.deepEqual(
      forYou.map((i) => [i.id, i.reason]),
      items.map((i) => [i.id, i.reason]),
    );
  });

  it('gives anonymous callers popular videos only', async () => {
    for (const path of ['/api/v1/recommendations/videos', '/api/v1/feed/discover/for-you']) {
      const items = await recommendations(path, 6);
      assert.equal(items.length, 6);
      assert.ok(items.every((i) => i.reason === 'popular'));
      // The week's top six, whoever watched them.
      assert.deepEqual(
        new Set(items.map((i) => i.id)),
        new Set([ids.own, ids.p1, ids.p2, ids.p3, ids.p4, ids.pWatched]),
      );
    }
  });

  it('never recommends a video hidden, made private or unpublished since it trended', async () => {
    await sql`update videos set hidden = true where id = ${ids.p1}`.execute(db());
    await sql`update videos set visibility = 'private' where id = ${ids.s1}`.execute(db());
    await sql`update videos set publication = 'unpublished' where id = ${ids.p2}`.execute(db());
    await sql`update users set status = 'hidden' where id = ${B}`.execute(db());
    const gone = [ids.p1, ids.p2, ids.s1];
    for (const token of [viewer.access_token, undefined]) {
      const items = await recommendations('/api/v1/recommendations/videos', 50, token);
      for (const id of gone) assert.ok(!items.some((i) => i.id === id));
      const { rows } = await sql<{ id: string }>`select id from videos where owner_id = ${B}`.execute(db());
      for (const { id } of rows) assert.ok(!items.some((i) => i.id === id), "a hidden owner's video");
    }
    await sql`update users set status = 'active' where id = ${B}`.execute(db());
  });

  it('checks its limit', async () => {
    for (const path of ['/api/v1/recommendations/videos', '/api/v1/feed/discover/for-you']) {
      assert.deepEqual(badFields(await api(t, 'GET', `${path}?limit=0`)), ['limit']);
      assert.deepEqual(badFields(await api(t, 'GET', `${path}?limit=51`)), ['limit']);
    }
  });
});
