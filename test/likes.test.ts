// Likes through the HTTP API: exact counts under concurrency, idempotent like and unlike, the counts on
// a video's answer, who may like what, comment likes, the liked-videos list, and likes going with the
// video or comment they were of.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { eventsOf, type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { insertVideo, type VideoRowInput } from './helpers/discovery-rows.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { waitFor } from './helpers/wait.ts';

type User = Awaited<ReturnType<typeof registerUser>>;

let t: TestApp;
let admin: SignedIn;
before(async () => {
  // Views are written every 100 ms, so a video's answer shows them soon.
  ({ t, admin } = await startAdminApp({ env: { VIEWS_FLUSH_INTERVAL_MS: '100' } }));
});
after(async () => {
  await t.stop();
});

const like = (type: string, id: string, user?: { access_token: string }) =>
  api(t, 'POST', `/api/v1/like/${type}/${id}`, { token: user?.access_token });
const unlike = (type: string, id: string, user?: { access_token: string }) =>
  api(t, 'DELETE', `/api/v1/like/${type}/${id}`, { token: user?.access_token });
const video = (id: string, token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });
const comment = async (videoId: string, user: { access_token: string }, text: string, parentId?: string) => {
  const res = await api(t, 'POST', `/api/v1/videos/${videoId}/comments`, {
    token: user.access_token,
    body: { body: text, parent_id: parentId },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string };
};
const commentOf = (id: string, token?: string) => api(t, 'GET', `/api/v1/comments/${id}`, { token });

async function ownedVideo(opts: VideoRowInput = { title: 'Clip' }) {
  const owner = await registerUser(t);
  return { owner, videoId: await insertVideo(t, owner.id, opts) };
}

async function likesReceived(userId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select coalesce((select likes_received from user_like_counts where user_id = ${userId}), 0)::int as n`.execute(
    t.app.database.db,
  );
  return rows[0]!.n;
}

async function likeRows(videoId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from likes where video_id = ${videoId}`.execute(t.app.database.db);
  return rows[0]!.n;
}

async function users(n: number): Promise<User[]> {
  const out: User[] = [];
  // A few at a time: each registration hashes a password.
  for (let i = 0; i < n; i += 10) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => registerUser(t)))));
  }
  return out;
}

describe('video likes', () => {
  it('counts 100 concurrent likes from 100 users exactly', async () => {
    const { owner, videoId } = await ownedVideo();
    const fans = await users(100);
    const answers = await Promise.all(fans.map((u) => like('video', videoId, u)));
    assert.deepEqual(
      answers.map((r) => r.status),
      fans.map(() => 204),
      JSON.stringify(answers.find((r) => r.status !== 204)?.body),
    );
    const v = await video(videoId, fans[0]!.access_token);
    assert.equal(v.status, 200, JSON.stringify(v.body));
    assert.equal(v.body.likes_count, 100);
    assert.equal(await likesReceived(owner.id), 100);
    assert.equal(await likeRows(videoId), 100);

    // And as many unlikes, concurrently, bring it back to nothing.
    await Promise.all(fans.slice(0, 60).map((u) => unlike('video', videoId, u)));
    assert.equal((await video(videoId)).body.likes_count, 40);
    assert.equal(await likesReceived(owner.id), 40);
  });

  it('likes and unlikes idempotently, announcing each change once', async () => {
    const { owner, videoId } = await ownedVideo();
    const fan = await registerUser(t);
    for (let i = 0; i < 3; i++) assert.equal((await like('video', videoId, fan)).status, 204);
    assert.equal((await video(videoId)).body.likes_count, 1);
    // Concurrent repeats too.
    await Promise.all([1, 2, 3].map(() => like('video', videoId, fan)));
    assert.equal((await video(videoId)).body.likes_count, 1);
    assert.equal(await likesReceived(owner.id), 1);

    for (let i = 0; i < 3; i++) assert.equal((await unlike('video', videoId, fan)).status, 204);
    assert.equal((await video(videoId)).body.likes_count, 0);
    assert.equal(await likesReceived(owner.id), 0);

    const aggregate = `${fan.id}:video:${videoId}`;
    const events = await eventsOf(t, aggregate);
    assert.deepEqual(
      events.map((e) => e.type),
      ['like.created', 'like.deleted'],
    );
    assert.deepEqual(events[0]!.payload, {
      user_id: fan.id,
      target_type: 'video',
      target_id: videoId,
      video_id: videoId,
      target_owner_id: owner.id,
    });
  });

  it('shows likes, comments and views on the video', async () => {
    const { videoId } = await ownedVideo();
    const [a, b] = [await registerUser(t), await registerUser(t)];
    await like('video', videoId, a);
    await like('video', videoId, b);
    const c = await comment(videoId, a, 'Nice');
    await comment(videoId, b, 'Agreed', c.id);
    for (const u of [a, b]) {
      const res = await api(t, 'POST', `/api/v1/videos/${videoId}/views`, {
        token: u.access_token,
        body: {},
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    }
    const v = await waitFor('the views written', async () => {
      const res = await video(videoId, a.access_token);
      return res.body.views_count === 2 ? res : undefined;
    });
    assert.equal(v.body.likes_count, 2);
    assert.equal(v.body.comments_count, 2);
  });

  it('refuses videos the caller may not watch, and anonymous callers', async () => {
    const fan = await registerUser(t);
    const { owner, videoId: secret } = await ownedVideo({ title: 'Private', visibility: 'private' });
    assertProblem(await like('video', secret, fan), 404, 'VIDEO_NOT_FOUND');
    const { videoId: draft } = await ownedVideo({ title: 'Draft', publication: 'draft' });
    assertProblem(await like('video', draft, fan), 404, 'VIDEO_NOT_FOUND');
    const { videoId: members } = await ownedVideo({ title: 'Members', accessTier: 1 });
    assertProblem(await like('video', members, fan), 403, 'MEMBERSHIP_REQUIRED');
    assertProblem(await like('video', '01890000-0000-7000-8000-000000000000', fan), 404, 'VIDEO_NOT_FOUND');
    assert.equal((await like('video', secret)).status, 401);
    assert.deepEqual(badFields(await like('playlist', secret, fan)), ['type']);
    assert.deepEqual(badFields(await like('video', 'nope', fan)), ['id']);
    // Its owner may like a private video of theirs.
    assert.equal((await like('video', secret, owner)).status, 204);
    assert.equal((await video(secret, owner.access_token)).body.likes_count, 1);
  });
});

describe('comment likes', () => {
  it('counts likes on the comment, shows mine, and orders top comments by them', async () => {
    const { videoId } = await ownedVideo();
    const [author, other, a, b] = await users(4);
    const first = await comment(videoId, author!, 'Early');
    const second = await comment(videoId, other!, 'Late but good');
    for (const u of [a!, b!]) assert.equal((await like('comment', second.id, u)).status, 204);
    await like('comment', second.id, a!);

    const mine = await commentOf(second.id, a!.access_token);
    assert.equal(mine.body.like_count, 2);
    assert.equal(mine.body.liked_by_me, true);
    assert.equal((await commentOf(second.id, author!.access_token)).body.liked_by_me, false);
    assert.equal(await likesReceived(other!.id), 2);

    const top = await api(t, 'GET', `/api/v1/videos/${videoId}/comments?order=top`);
    assert.deepEqual(
      top.body.items.map((i: { id: string; like_count: number }) => [i.id, i.like_count]),
      [
        [second.id, 2],
        [first.id, 0],
      ],
    );
    assert.equal((await unlike('comment', second.id, b!)).status, 204);
    assert.equal((await commentOf(second.id)).body.like_count, 1);
    assert.equal(await likesReceived(other!.id), 1);
    const events = await eventsOf(t, `${a!.id}:comment:${second.id}`);
    assert.deepEqual(
      events.map((e) => e.type),
      ['like.created'],
    );
    assert.equal(events[0]!.payload.target_owner_id, other!.id);
    assert.equal(events[0]!.payload.video_id, videoId);
    // The video's own count is not the comment's.
    assert.equal((await video(videoId)).body.likes_count, 0);
  });

  it('refuses comments the caller may not see, deleted ones, and those of a video with comments off', async () => {
    const { owner, videoId } = await ownedVideo({ title: 'Private', visibility: 'private' });
    const fan = await registerUser(t);
    const hidden = await comment(videoId, owner, 'Only I see this');
    assertProblem(await like('comment', hidden.id, fan), 404, 'COMMENT_NOT_FOUND');
    assertProblem(
      await like('comment', '01890000-0000-7000-8000-000000000000', fan),
      404,
      'COMMENT_NOT_FOUND',
    );

    const open = await ownedVideo();
    const c = await comment(open.videoId, fan, 'Hello');
    const off = await api(t, 'PATCH', `/api/v1/videos/${open.videoId}`, {
      token: open.owner.access_token,
      body: { comments_enabled: false },
    });
    assert.equal(off.status, 200);
    assertProblem(await like('comment', c.id, open.owner), 403, 'COMMENTS_DISABLED');
  });
});

describe('liked videos', () => {
  it('lists the videos I liked, last liked first, only those I may find', async () => {
    const fan = await registerUser(t);
    const owner = await registerUser(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await insertVideo(t, owner.id, { title: `Liked ${i}` }));
    const unlisted = await insertVideo(t, owner.id, { title: 'Hush', visibility: 'unlisted' });
    for (const id of [...ids, unlisted]) assert.equal((await like('video', id, fan)).status, 204);
    const later = await insertVideo(t, owner.id, { title: 'Soon private' });
    await like('video', later, fan);
    await sql`update videos set visibility = 'private' where id = ${later}`.execute(t.app.database.db);

    const first = await api(t, 'GET', '/api/v1/users/me/likes?limit=2', { token: fan.access_token });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const second = await api(t, 'GET', `/api/v1/users/me/likes?limit=2&cursor=${first.body.next_cursor}`, {
      token: fan.access_token,
    });
    const items = [...first.body.items, ...second.body.items];
    assert.deepEqual(
      items.map((i: { id: string }) => i.id),
      [...ids].reverse(),
    );
    assert.equal(second.body.next_cursor, null);
    assert.equal(items[0].title, 'Liked 2');
    assert.ok(Date.parse(items[0].liked_at) >= Date.parse(items[2].liked_at));
    assert.equal((await api(t, 'GET', '/api/v1/users/me/likes')).status, 401);
  });
});

describe('likes of what is gone', () => {
  it("go with a deleted video, its comments' too, and the counts follow", async () => {
    const { owner, videoId } = await ownedVideo();
    const [fan, author] = [await registerUser(t), await registerUser(t)];
    const c = await comment(videoId, author, 'On a doomed video');
    await like('video', videoId, fan);
    await like('comment', c.id, fan);
    assert.equal(await likeRows(videoId), 2);
    assert.equal(await likesReceived(owner.id), 1);
    assert.equal(await likesReceived(author.id), 1);

    const down = await api(t, 'PATCH', `/api/v1/videos/${videoId}/publish`, {
      token: owner.access_token,
      body: { published: false },
    });
    assert.equal(down.status, 200);
    assert.equal(
      (await api(t, 'DELETE', `/api/v1/videos/${videoId}`, { token: owner.access_token })).status,
      204,
    );
    await eventsDelivered(t);
    assert.equal(await likeRows(videoId), 0);
    assert.equal(await likesReceived(owner.id), 0);
    assert.equal(await likesReceived(author.id), 0);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from like_counts where target_id = ${videoId}`.execute(t.app.database.db);
    assert.equal(rows[0]!.n, 0);
    // Unliking what is gone is no error.
    assert.equal((await unlike('video', videoId, fan)).status, 204);
    assertProblem(await like('video', videoId, fan), 404, 'VIDEO_NOT_FOUND');
  });

  it('go with a deleted comment; a tombstone keeps no likes', async () => {
    const { videoId } = await ownedVideo();
    const [author, fan, other] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    const gone = await comment(videoId, author, 'Deleted outright');
    const stone = await comment(videoId, author, 'Deleted with replies');
    await comment(videoId, other, 'A reply', stone.id);
    for (const id of [gone.id, stone.id]) {
      assert.equal((await like('comment', id, fan)).status, 204);
      assert.equal((await like('comment', id, other)).status, 204);
    }
    assert.equal(await likesReceived(author.id), 4);

    for (const id of [gone.id, stone.id]) {
      const res = await api(t, 'DELETE', `/api/v1/comments/${id}`, { token: author.access_token });
      assert.equal(res.status, 204);
    }
    await eventsDelivered(t);
    assert.equal(await likeRows(videoId), 0);
    assert.equal(await likesReceived(author.id), 0);
    const tomb = await commentOf(stone.id, fan.access_token);
    assert.equal(tomb.body.deleted, true);
    assert.equal(tomb.body.like_count, 0);
    assert.equal(tomb.body.liked_by_me, false);
    assertProblem(await like('comment', stone.id, fan), 404, 'COMMENT_NOT_FOUND');
    assertProblem(await like('comment', gone.id, fan), 404, 'COMMENT_NOT_FOUND');
    assert.ok(admin.id);
  });
});
