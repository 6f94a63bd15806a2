// Viewer state through HTTP: progress and the completed rule, continue watching, and liked / bookmarked
// kept from like and collection events; and the projection's handlers fed the same or older events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { bookmarkAggregateId, collectionItemAdded } from '../src/modules/collections/index.ts';
import { likeAggregateId, likeCreated, likeDeleted } from '../src/modules/likes/index.ts';
import { emit } from '../src/platform/events/emit.ts';
import type { DeliveredEvent } from '../src/platform/events/event.ts';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { insertVideo } from './helpers/discovery-rows.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem, badFields } from './helpers/problems.ts';

type User = Awaited<ReturnType<typeof registerUser>>;

let t: TestApp;
let creator: User;

before(async () => {
  t = await startTestApp({ OUTBOX_POLL_INTERVAL_MS: '100', REGISTER_LIMIT_PER_IP: '1000' });
  creator = await registerUser(t);
});
after(() => t.stop());

const call = (method: string, path: string, user?: User, body?: unknown) =>
  api(t, method, path, { token: user?.access_token, body });

async function viewer(user: User | undefined, videoId: string) {
  const res = await call('GET', `/api/v1/videos/${videoId}`, user);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.viewer as {
    liked: boolean;
    bookmarked: boolean;
    progress_s: number | null;
    completed: boolean;
  };
}

async function progress(user: User, videoId: string, body: Record<string, number>) {
  const res = await call('PUT', `/api/v1/videos/${videoId}/progress`, user, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { progress_s: number; completed: boolean };
}

async function watchingIds(user: User, path = 'continue-watching', limit = 2): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${cursor}` : '';
    const res = await call('GET', `/api/v1/users/me/${path}?limit=${limit}${q}`, user);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    ids.push(...res.body.items.map((i: { id: string }) => i.id));
    cursor = res.body.next_cursor;
  } while (cursor);
  return ids;
}

const db = () => t.app.database.db;

function emitLike(user: string, videoId: string, liked: boolean, targetType: 'video' | 'comment' = 'video') {
  const event = liked ? likeCreated : likeDeleted;
  return db()
    .transaction()
    .execute((tx) =>
      emit(
        tx,
        event.create({
          aggregateId: likeAggregateId(user, targetType, videoId),
          payload: {
            user_id: user,
            target_type: targetType,
            target_id: videoId,
            video_id: videoId,
            target_owner_id: creator.id,
          },
        }),
      ),
    );
}

describe('progress', () => {
  it('is shown on the video to its viewer, and nothing to others or anonymous callers', async () => {
    const user = await registerUser(t);
    const v = await insertVideo(t, creator.id, { title: 'Long', durationS: 600 });
    assert.deepEqual(await viewer(user, v), {
      liked: false,
      bookmarked: false,
      progress_s: null,
      completed: false,
    });
    const saved = await progress(user, v, { position_s: 42.5 });
    assert.deepEqual(saved, { liked: false, bookmarked: false, progress_s: 42.5, completed: false });
    assert.equal((await viewer(user, v)).progress_s, 42.5);
    assert.equal((await viewer(await registerUser(t), v)).progress_s, null);
    assert.equal(await viewer(undefined, v), null);
  });

  it('completes at 95 %, or within the last 10 s of a video longer than 20 s', async () => {
    const user = await registerUser(t);
    const minute = await insertVideo(t, creator.id, { title: 'Minute', durationS: 60 });
    assert.equal((await progress(user, minute, { position_s: 49 })).completed, false);
    assert.equal((await progress(user, minute, { position_s: 50 })).completed, true); // last 10 s
    assert.equal((await progress(user, minute, { position_s: 30 })).completed, false); // watching again
    const long = await insertVideo(t, creator.id, { title: 'Long', durationS: 1000 });
    assert.equal((await progress(user, long, { position_s: 949 })).completed, false);
    assert.equal((await progress(user, long, { position_s: 950 })).completed, true); // 95 %
    const short = await insertVideo(t, creator.id, { title: 'Short', durationS: 8 });
    assert.equal((await progress(user, short, { position_s: 0 })).completed, false);
    assert.equal((await progress(user, short, { position_s: 7.7 })).completed, true);
    // Past the end (players overshoot): the video's length.
    assert.deepEqual(await progress(user, short, { position_s: 9 }), {
      liked: false,
      bookmarked: false,
      progress_s: 8,
      completed: true,
    });
    // The video's own length wins over the player's.
    assert.equal((await progress(user, long, { position_s: 100, duration_s: 101 })).completed, false);
    assert.equal((await viewer(user, long)).completed, false);
  });

  it('is refused for bad input, anonymous callers and videos the caller may not watch', async () => {
    const user = await registerUser(t);
    const v = await insertVideo(t, creator.id, { title: 'Any' });
    assert.deepEqual(badFields(await call('PUT', `/api/v1/videos/${v}/progress`, user, { position_s: -1 })), [
      'position_s',
    ]);
    assert.deepEqual(badFields(await call('PUT', `/api/v1/videos/${v}/progress`, user, {})), ['position_s']);
    assert.deepEqual(
      badFields(await call('PUT', `/api/v1/videos/${v}/progress`, user, { position_s: 1, duration_s: 0 })),
      ['duration_s'],
    );
    assertProblem(
      await call('PUT', `/api/v1/videos/${v}/progress`, undefined, { position_s: 1 }),
      401,
      'TOKEN_MISSING',
    );
    const hidden = await insertVideo(t, creator.id, { title: 'Private', visibility: 'private' });
    assertProblem(
      await call('PUT', `/api/v1/videos/${hidden}/progress`, user, { position_s: 1 }),
      404,
      'VIDEO_NOT_FOUND',
    );
    const members = await insertVideo(t, creator.id, { title: 'Members', accessTier: 1 });
    assertProblem(
      await call('PUT', `/api/v1/videos/${members}/progress`, user, { position_s: 1 }),
      403,
      'MEMBERSHIP_REQUIRED',
    );
  });
});

describe('continue watching', () => {
  it('lists started, unfinished videos, last watched first, page by page', async () => {
    const user = await registerUser(t);
    const [a, b, c, done, unstarted] = await Promise.all(
      ['A', 'B', 'C', 'Done', 'Unstarted'].map((title) =>
        insertVideo(t, creator.id, { title, durationS: 300 }),
      ),
    );
    await progress(user, a!, { position_s: 10 });
    await progress(user, b!, { position_s: 20 });
    await progress(user, done!, { position_s: 299 });
    await progress(user, unstarted!, { position_s: 0 });
    await progress(user, c!, { position_s: 30 });
    await progress(user, a!, { position_s: 15 }); // A again: now the latest
    assert.deepEqual(await watchingIds(user), [a, c, b]);
    const first = await call('GET', '/api/v1/users/me/continue-watching?limit=1', user);
    assert.equal(first.body.items[0].progress_s, 15);
    assert.equal(first.body.items[0].completed, false);
    assert.equal(first.body.items[0].title, 'A');
    assert.deepEqual(await watchingIds(user, 'history'), [a, c, unstarted, done, b]);
    assertProblem(await call('GET', '/api/v1/users/me/continue-watching'), 401, 'TOKEN_MISSING');
  });

  it('never lists a video the caller can no longer see or watch', async () => {
    const user = await registerUser(t);
    const [keep, goesPrivate, goesMembers, unlisted] = await Promise.all(
      ['Keep', 'Private', 'Members', 'Unlisted'].map((title) =>
        insertVideo(t, creator.id, { title, visibility: title === 'Unlisted' ? 'unlisted' : 'public' }),
      ),
    );
    for (const v of [keep, goesPrivate, goesMembers, unlisted]) await progress(user, v!, { position_s: 5 });
    assert.equal((await watchingIds(user)).length, 4);
    await sql`update videos set visibility = 'private' where id = ${goesPrivate}`.execute(db());
    await sql`update videos set access_tier = 1 where id = ${goesMembers}`.execute(db());
    // The unlisted one stays: its link is still theirs.
    assert.deepEqual(new Set(await watchingIds(user)), new Set([keep, unlisted]));
    await sql`update users set status = 'hidden' where id = ${creator.id}`.execute(db());
    try {
      assert.deepEqual(await watchingIds(user), []);
    } finally {
      await sql`update users set status = 'active' where id = ${creator.id}`.execute(db());
    }
  });
});

describe('bookmarked and liked', () => {
  it('bookmarked is true while the video is in any of the viewer’s collections', async () => {
    const user = await registerUser(t);
    const v = await insertVideo(t, creator.id, { title: 'Saved' });
    const list = await call('POST', '/api/v1/collections', user, { name: 'Keepers' });
    assert.equal(
      (await call('POST', '/api/v1/collections/watch-later/items', user, { video_id: v })).status,
      201,
    );
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).bookmarked, true);

    await call('POST', `/api/v1/collections/${list.body.id}/items`, user, { video_id: v });
    await call('DELETE', `/api/v1/collections/watch-later/items/${v}`, user);
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).bookmarked, true, 'still in Keepers');

    await call('DELETE', `/api/v1/collections/${list.body.id}/items/${v}`, user);
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).bookmarked, false, 'in no collection');

    // Deleting a playlist takes its videos out.
    const other = await call('POST', '/api/v1/collections', user, { name: 'Short-lived' });
    await call('POST', `/api/v1/collections/${other.body.id}/items`, user, { video_id: v });
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).bookmarked, true);
    assert.equal((await call('DELETE', `/api/v1/collections/${other.body.id}`, user)).status, 204);
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).bookmarked, false);
  });

  it('bookmarked stays right through quick add / remove / add changes', async () => {
    const user = await registerUser(t);
    const v = await insertVideo(t, creator.id, { title: 'Flip' });
    for (let i = 0; i < 5; i++) {
      await call('POST', '/api/v1/collections/watch-later/items', user, { video_id: v });
      await call('DELETE', `/api/v1/collections/watch-later/items/${v}`, user);
    }
    await call('POST', '/api/v1/collections/watch-later/items', user, { video_id: v });
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).bookmarked, true);
  });

  it('liked follows like events for the video, not for comments', async () => {
    const user = await registerUser(t);
    const v = await insertVideo(t, creator.id, { title: 'Liked' });
    await emitLike(user.id, v, true);
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).liked, true);
    await emitLike(user.id, v, false);
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).liked, false);
    // A comment's like names the comment as target: the video's state does not move.
    await emitLike(user.id, v, true, 'comment');
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).liked, false);
  });
});

describe('the projection', () => {
  const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);
  const state = async (userId: string, videoId: string) => {
    const { rows } = await sql<{ liked: boolean; bookmarked: boolean }>`
      select liked, bookmarked from viewer_states where user_id = ${userId} and video_id = ${videoId}`.execute(
      db(),
    );
    return rows[0];
  };
  const deliver = <P>(type: string, payload: P, occurredAt: Date): DeliveredEvent<P> => ({
    id: uuidv7(),
    type,
    aggregate: { type: 'x', id: 'x' },
    payload,
    occurredAt,
  });

  it('changes nothing for the same event again, or for an older event after a newer one', async () => {
    const { projection } = t.app.services.viewing;
    const user = await registerUser(t);
    const v = await insertVideo(t, creator.id, { title: 'Replayed' });
    const like = (liked: boolean, ms: number) =>
      db()
        .transaction()
        .execute((tx) =>
          projection.like(
            tx,
            deliver(
              'like.created',
              { user_id: user.id, target_type: 'video' as const, target_id: v },
              at(ms),
            ),
            liked,
          ),
        );
    await like(true, 2000);
    await like(true, 2000);
    assert.equal((await state(user.id, v))?.liked, true);
    await like(false, 1000); // older unlike, arriving late
    assert.equal((await state(user.id, v))?.liked, true);
    await like(false, 3000);
    await like(true, 2000); // the like again, after the newer unlike
    assert.equal((await state(user.id, v))?.liked, false);

    const bookmark = (bookmarked: boolean, ms: number) =>
      db()
        .transaction()
        .execute((tx) =>
          projection.bookmark(
            tx,
            deliver('collection.item_added', { owner_id: user.id, video_id: v, bookmarked }, at(ms)),
          ),
        );
    await bookmark(true, 5000);
    await bookmark(true, 5000);
    await bookmark(false, 4000);
    assert.deepEqual(await state(user.id, v), { liked: false, bookmarked: true });
    await bookmark(false, 6000);
    await bookmark(true, 5000);
    assert.deepEqual(await state(user.id, v), { liked: false, bookmarked: false });

    // An event about a video gone meanwhile is skipped, not retried for ever.
    const gone = uuidv7();
    await db()
      .transaction()
      .execute((tx) =>
        projection.like(
          tx,
          deliver(
            'like.created',
            { user_id: user.id, target_type: 'video' as const, target_id: gone },
            at(1),
          ),
          true,
        ),
      );
    assert.equal(await state(user.id, gone), undefined);
  });

  it('through the relay: an event delivered twice (emitted twice) leaves the state as it was', async () => {
    const user = await registerUser(t);
    const v = await insertVideo(t, creator.id, { title: 'Twice' });
    const wl = (await call('GET', '/api/v1/collections/watch-later', user)).body;
    const event = collectionItemAdded.create({
      aggregateId: bookmarkAggregateId(user.id, v),
      payload: { collection_id: wl.id, owner_id: user.id, video_id: v, bookmarked: true },
      occurredAt: new Date(Date.now() - 60_000),
    });
    await db()
      .transaction()
      .execute((tx) => emit(tx, event));
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).bookmarked, true);
    // A later removal, then the old addition delivered once more (same id, same time).
    await call('POST', '/api/v1/collections/watch-later/items', user, { video_id: v });
    await call('DELETE', `/api/v1/collections/watch-later/items/${v}`, user);
    await db()
      .transaction()
      .execute((tx) => emit(tx, { ...event, id: uuidv7() }));
    await eventsDelivered(t);
    assert.equal((await viewer(user, v)).bookmarked, false);
  });
});

describe('for feeds', () => {
  it('answers what a user watched and the tags of what they liked and watched', async () => {
    const { viewing } = t.app.services;
    const user = await registerUser(t);
    const jazz = await insertVideo(t, creator.id, { title: 'Jazz', tags: ['jazz', 'live'] });
    const chess = await insertVideo(t, creator.id, { title: 'Chess', tags: ['chess'] });
    const both = await insertVideo(t, creator.id, { title: 'Jazz chess', tags: ['jazz', 'chess'] });
    await progress(user, jazz, { position_s: 3 });
    await progress(user, chess, { position_s: 3 });
    await emitLike(user.id, both, true);
    await eventsDelivered(t);
    assert.deepEqual(await viewing.watchedVideoIds(user.id, 10), [chess, jazz]);
    assert.deepEqual(await viewing.watchedVideoIds(user.id, 1), [chess]);
    assert.deepEqual(await viewing.interestTags(user.id, 2), [
      { tag: 'chess', weight: 3 },
      { tag: 'jazz', weight: 3 },
    ]);
  });
});
