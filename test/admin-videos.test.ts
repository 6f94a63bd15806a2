// Moderators hide, restore, reject and reinstate videos: a hidden or rejected video answers 404 to all
// but its owner and administrators, and every decision is announced once through the outbox.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { eventsOf, makeVideo, type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';

let t: TestApp;
let admin: SignedIn;
let owner: Awaited<ReturnType<typeof registerUser>>;
let viewer: Awaited<ReturnType<typeof registerUser>>;
before(async () => {
  ({ t, admin } = await startAdminApp());
  owner = await registerUser(t);
  viewer = await registerUser(t);
});
after(() => t.stop());

const decide = (id: string, decision: string, body?: unknown, token = admin.access_token) =>
  api(t, 'PUT', `/api/v1/admin/videos/${id}/${decision}`, { token, body });
const watch = (id: string, token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });

/** Who sees the video now: anonymous, another user, its owner, an administrator. */
async function seenBy(id: string): Promise<number[]> {
  return Promise.all(
    [undefined, viewer.access_token, owner.access_token, admin.access_token].map(
      async (token) => (await watch(id, token)).status,
    ),
  );
}
const catalogEvents = async (id: string) =>
  (await eventsOf(t, id)).filter((e) => e.type === 'video.moderated' || e.type === 'video.unpublished');

describe('hiding a video', () => {
  it('leaves it to its owner and administrators, with the reason; restoring shows it again', async () => {
    const id = await makeVideo(t, owner);
    assert.deepEqual(await seenBy(id), [200, 200, 200, 200]);
    const before = await watch(id);
    const playback = before.body.playback.hls as string;

    const res = await decide(id, 'hide', { reason: 'misleading title' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.hidden, true);
    assert.equal(res.body.moderation_reason, 'misleading title');
    assert.equal(res.body.publication, 'published', 'hiding leaves the publication as it was');
    assert.deepEqual(await seenBy(id), [404, 404, 200, 200]);
    assertProblem(await watch(id, viewer.access_token), 404, 'VIDEO_NOT_FOUND');
    // Its owner sees it, and why.
    const mine = await watch(id, owner.access_token);
    assert.equal(mine.body.hidden, true);
    assert.equal(mine.body.moderation_reason, 'misleading title');
    // What was handed out before stops working: the access epoch moved.
    assert.equal((await api(t, 'GET', playback)).status, 404);

    const restored = await decide(id, 'restore');
    assert.equal(restored.status, 200);
    assert.equal(restored.body.hidden, false);
    assert.equal(restored.body.moderation_reason, null);
    assert.deepEqual(await seenBy(id), [200, 200, 200, 200]);
    // Media URLs are of a new access epoch: those handed out before the video was hidden stay dead.
    assert.notEqual((await watch(id)).body.playback.hls, playback);

    assert.deepEqual(
      (await catalogEvents(id)).map((e) => [e.type, e.payload.hidden, e.payload.reason]),
      [
        ['video.moderated', true, 'misleading title'],
        ['video.moderated', false, null],
      ],
    );
    // Hiding twice announces it once.
    await decide(id, 'hide');
    await decide(id, 'hide', { reason: 'still misleading' });
    assert.equal((await catalogEvents(id)).length, 3);
    await decide(id, 'restore');
  });

  it('a reason is optional, never empty', async () => {
    const id = await makeVideo(t, owner);
    assert.deepEqual(badFields(await decide(id, 'hide', { reason: '' })), ['reason']);
    assert.deepEqual(await seenBy(id), [200, 200, 200, 200]);
    const res = await decide(id, 'hide');
    assert.equal(res.status, 200);
    assert.equal(res.body.moderation_reason, null);
  });
});

describe('rejecting a video', () => {
  it('needs a reason', async () => {
    const id = await makeVideo(t, owner);
    for (const body of [undefined, {}, { reason: '   ' }, { reason: 7 }]) {
      assert.deepEqual(
        badFields(await decide(id, 'reject', body)),
        body ? ['reason'] : ['body'],
        JSON.stringify(body),
      );
    }
    assert.deepEqual(await seenBy(id), [200, 200, 200, 200]);
    assert.deepEqual(await catalogEvents(id), []);
  });

  it('takes it down for all but its owner and administrators; reinstating leaves it unpublished', async () => {
    const id = await makeVideo(t, owner);
    const res = await decide(id, 'reject', { reason: 'copyright claim' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.publication, 'rejected');
    assert.equal(res.body.moderation_reason, 'copyright claim');
    assert.deepEqual(await seenBy(id), [404, 404, 200, 200]);
    const mine = await watch(id, owner.access_token);
    assert.equal(mine.body.publication, 'rejected');
    assert.equal(mine.body.moderation_reason, 'copyright claim');
    assert.deepEqual(
      (await catalogEvents(id)).map((e) => e.payload),
      [{ video_id: id, owner_id: owner.id, publication: 'rejected', reason: 'copyright claim' }],
    );

    const back = await decide(id, 'reinstate');
    assert.equal(back.status, 200);
    assert.equal(back.body.publication, 'unpublished');
    assert.equal(back.body.moderation_reason, null);
    // Its owner publishes it again when they choose.
    assert.deepEqual(await seenBy(id), [404, 404, 200, 200]);
    assertProblem(await decide(id, 'reinstate'), 409, 'INVALID_STATE');
  });

  it('a rejected video that is also hidden keeps a reason until both are lifted', async () => {
    const id = await makeVideo(t, owner);
    await decide(id, 'reject', { reason: 'spam' });
    await decide(id, 'hide', { reason: 'spam ring' });
    const reinstated = await decide(id, 'reinstate');
    assert.equal(reinstated.body.hidden, true);
    assert.equal(reinstated.body.moderation_reason, 'spam ring');
    const restored = await decide(id, 'restore');
    assert.equal(restored.body.moderation_reason, null);
  });
});

describe('moderation routes', () => {
  it('answer 404 for an unknown video and 400 for an id that is not one', async () => {
    for (const decision of ['hide', 'restore', 'reinstate']) {
      assertProblem(await decide(uuidv7(), decision), 404, 'VIDEO_NOT_FOUND');
    }
    assertProblem(await decide(uuidv7(), 'reject', { reason: 'x' }), 404, 'VIDEO_NOT_FOUND');
    assert.deepEqual(badFields(await decide('nope', 'hide')), ['id']);
  });

  it('are for administrators only, and the owner is no exception', async () => {
    const id = await makeVideo(t, owner);
    assertProblem(await decide(id, 'hide', undefined, owner.access_token), 403, 'ADMIN_REQUIRED');
    assertProblem(await decide(id, 'reject', { reason: 'x' }, viewer.access_token), 403, 'ADMIN_REQUIRED');
    assert.deepEqual(await seenBy(id), [200, 200, 200, 200]);
  });
});
