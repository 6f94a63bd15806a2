// Comments through the HTTP API: threads and reply counts, who may edit and delete, tombstones, the
// body's limits, the per-user rate limit, the owner's switch, @mentions, both orders with cursors,
// private videos, and the events each change emits.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { eventsOf, type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { insertVideo, type VideoRowInput } from './helpers/discovery-rows.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem, badFields } from './helpers/problems.ts';

type User = Awaited<ReturnType<typeof registerUser>>;

const RATE = 5;

let t: TestApp;
let admin: SignedIn;
before(async () => {
  ({ t, admin } = await startAdminApp({ env: { COMMENTS_RATE_LIMIT_PER_MINUTE: String(RATE) } }));
});
after(async () => {
  await t.stop();
});

const post = (videoId: string, user: { access_token: string }, body: unknown) =>
  api(t, 'POST', `/api/v1/videos/${videoId}/comments`, { token: user.access_token, body });
const comment = async (videoId: string, user: { access_token: string }, text: string, parentId?: string) => {
  const res = await post(videoId, user, { body: text, parent_id: parentId });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; reply_count: number; like_count: number };
};
const list = (videoId: string, token?: string, query = '') =>
  api(t, 'GET', `/api/v1/videos/${videoId}/comments${query}`, { token });
const one = (id: string, token?: string) => api(t, 'GET', `/api/v1/comments/${id}`, { token });
const replies = (id: string, token?: string, query = '') =>
  api(t, 'GET', `/api/v1/comments/${id}/replies${query}`, { token });
const remove = (id: string, user: { access_token: string }) =>
  api(t, 'DELETE', `/api/v1/comments/${id}`, { token: user.access_token });
const video = (id: string, token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });

/** A fresh owner with a published public video. */
async function ownedVideo(opts: VideoRowInput = { title: 'Talk' }) {
  const owner = await registerUser(t);
  const videoId = await insertVideo(t, owner.id, opts);
  return { owner, videoId };
}

describe('threads', () => {
  it('answers comments, replies and replies to replies, with reply counts and the video count', async () => {
    const { owner, videoId } = await ownedVideo();
    const [a, b, c] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    const top = await comment(videoId, a, 'First!');
    const reply = await comment(videoId, b, 'Second, under the first', top.id);
    const deeper = await comment(videoId, c, 'Third, under the second', reply.id);

    const page = await list(videoId);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.comments_enabled, true);
    assert.deepEqual(
      page.body.items.map((i: { id: string }) => i.id),
      [top.id],
      'replies are not top-level',
    );
    const first = page.body.items[0];
    assert.equal(first.reply_count, 1);
    assert.deepEqual(first.author, { id: a.id, username: a.username, display_name: a.user.display_name });
    assert.equal(first.body, 'First!');
    assert.equal(first.deleted, false);
    assert.equal(first.liked_by_me, false);

    const under = await replies(top.id);
    assert.equal(under.status, 200);
    assert.deepEqual(
      under.body.items.map((i: { id: string; parent_id: string }) => [i.id, i.parent_id]),
      [[reply.id, top.id]],
    );
    assert.equal(under.body.items[0].reply_count, 1);
    assert.deepEqual(
      (await replies(reply.id)).body.items.map((i: { id: string }) => i.id),
      [deeper.id],
    );

    const v = await video(videoId, owner.access_token);
    assert.equal(v.body.comments_count, 3);
    assert.equal(v.body.comments_enabled, true);

    const events = (await eventsOf(t, videoId)).filter((e) => e.type === 'comment.created');
    assert.equal(events.length, 3);
    assert.deepEqual(events[1]!.payload, {
      comment_id: reply.id,
      video_id: videoId,
      author_id: b.id,
      video_owner_id: owner.id,
      parent_id: top.id,
      parent_author_id: a.id,
      mentioned_user_ids: [],
    });
  });

  it('refuses a parent that is not a comment of the same video', async () => {
    const { videoId } = await ownedVideo();
    const { videoId: other } = await ownedVideo();
    const user = await registerUser(t);
    const elsewhere = await comment(other, user, 'On the other video');
    const res = await post(videoId, user, { body: 'Misplaced', parent_id: elsewhere.id });
    assertProblem(res, 404, 'COMMENT_NOT_FOUND');
    assert.equal(res.body.errors[0].field, 'parent_id');
  });
});

describe('editing', () => {
  it('lets the author alone change the text, and announces new mentions only', async () => {
    const { owner, videoId } = await ownedVideo();
    const [author, named, later] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    const made = await comment(videoId, author, `Hello @${named.username}`);

    for (const who of [owner, await registerUser(t), admin]) {
      const res = await api(t, 'PATCH', `/api/v1/comments/${made.id}`, {
        token: who.access_token,
        body: { body: 'Not my words' },
      });
      assertProblem(res, 403, 'PERMISSION_DENIED');
    }
    const anonymous = await api(t, 'PATCH', `/api/v1/comments/${made.id}`, { body: { body: 'x' } });
    assert.equal(anonymous.status, 401);

    const res = await api(t, 'PATCH', `/api/v1/comments/${made.id}`, {
      token: author.access_token,
      body: { body: `Hello @${named.username} and @${later.username}` },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.body, `Hello @${named.username} and @${later.username}`);
    assert.ok(res.body.edited_at);

    const edited = (await eventsOf(t, videoId)).filter((e) => e.type === 'comment.edited');
    assert.deepEqual(
      edited.map((e) => e.payload.mentioned_user_ids),
      [[later.id]],
    );
  });
});

describe('deleting', () => {
  it('is for the author, the video owner and admins; others get 403', async () => {
    const { owner, videoId } = await ownedVideo();
    const [author, stranger] = [await registerUser(t), await registerUser(t)];
    const byAuthor = await comment(videoId, author, 'one');
    const byOwner = await comment(videoId, author, 'two');
    const byAdmin = await comment(videoId, author, 'three');

    assertProblem(await remove(byAuthor.id, stranger), 403, 'PERMISSION_DENIED');
    assert.equal((await api(t, 'DELETE', `/api/v1/comments/${byAuthor.id}`)).status, 401);

    assert.equal((await remove(byAuthor.id, author)).status, 204);
    assert.equal((await remove(byOwner.id, owner)).status, 204);
    assert.equal((await remove(byAdmin.id, admin)).status, 204);
    assertProblem(await remove(byAdmin.id, admin), 404, 'COMMENT_NOT_FOUND');
    assertProblem(await one(byAuthor.id), 404, 'COMMENT_NOT_FOUND');

    assert.equal((await list(videoId)).body.items.length, 0);
    assert.equal((await video(videoId)).body.comments_count, 0);
    const deleted = (await eventsOf(t, videoId)).filter((e) => e.type === 'comment.deleted');
    assert.deepEqual(
      deleted.map((e) => [e.payload.comment_id, e.payload.tombstone]),
      [
        [byAuthor.id, false],
        [byOwner.id, false],
        [byAdmin.id, false],
      ],
    );
  });

  it('keeps a tombstone for a comment with replies, and the thread readable', async () => {
    const { videoId } = await ownedVideo();
    const [a, b] = [await registerUser(t), await registerUser(t)];
    const top = await comment(videoId, a, 'Something regrettable');
    const reply = await comment(videoId, b, 'An answer worth keeping', top.id);
    assert.equal((await video(videoId)).body.comments_count, 2);

    assert.equal((await remove(top.id, a)).status, 204);
    const page = await list(videoId);
    assert.equal(page.body.items.length, 1);
    const stone = page.body.items[0];
    assert.equal(stone.id, top.id);
    assert.equal(stone.deleted, true);
    assert.equal(stone.body, '');
    assert.equal(stone.author, null);
    assert.equal(stone.reply_count, 1);
    assert.equal((await one(top.id)).body.deleted, true);
    assert.deepEqual(
      (await replies(top.id)).body.items.map((i: { id: string; body: string }) => [i.id, i.body]),
      [[reply.id, 'An answer worth keeping']],
    );
    assert.equal((await video(videoId)).body.comments_count, 1, 'the tombstone is not counted');
    const { rows } = await sql<{ body: string; mentions: string[] }>`
      select body, mentions from comments where id = ${top.id}`.execute(t.app.database.db);
    assert.equal(rows[0]!.body, '', 'the text is gone from the database too');

    // A tombstone cannot be edited, deleted again or answered.
    const edit = await api(t, 'PATCH', `/api/v1/comments/${top.id}`, {
      token: a.access_token,
      body: { body: 'back' },
    });
    assertProblem(edit, 404, 'COMMENT_NOT_FOUND');
    assertProblem(await remove(top.id, a), 404, 'COMMENT_NOT_FOUND');
    assertProblem(await post(videoId, b, { body: 'late', parent_id: top.id }), 404, 'COMMENT_NOT_FOUND');

    // Its last reply gone, the tombstone has nothing left to hold and goes too.
    assert.equal((await remove(reply.id, b)).status, 204);
    assert.equal((await list(videoId)).body.items.length, 0);
    assertProblem(await one(top.id), 404, 'COMMENT_NOT_FOUND');
    assert.equal((await video(videoId)).body.comments_count, 0);

    const deleted = (await eventsOf(t, videoId)).filter((e) => e.type === 'comment.deleted');
    assert.deepEqual(
      deleted.map((e) => [e.payload.comment_id, e.payload.tombstone]),
      [
        [top.id, true],
        [reply.id, false],
      ],
    );
  });

  it('removes a reply without replies and lowers its parent reply count', async () => {
    const { videoId } = await ownedVideo();
    const [a, b] = [await registerUser(t), await registerUser(t)];
    const top = await comment(videoId, a, 'Question');
    const r1 = await comment(videoId, b, 'Answer one', top.id);
    await comment(videoId, b, 'Answer two', top.id);
    assert.equal((await one(top.id)).body.reply_count, 2);
    assert.equal((await remove(r1.id, b)).status, 204);
    assert.equal((await one(top.id)).body.reply_count, 1);
    assert.equal((await replies(top.id)).body.items.length, 1);
    assert.equal((await video(videoId)).body.comments_count, 2);
  });
});

describe('the body', () => {
  it('holds 1 to 2000 characters, without NUL', async () => {
    const { videoId } = await ownedVideo();
    const user = await registerUser(t);
    assert.deepEqual(badFields(await post(videoId, user, { body: 'x'.repeat(2001) })), ['body']);
    assert.deepEqual(badFields(await post(videoId, user, { body: '' })), ['body']);
    assert.deepEqual(badFields(await post(videoId, user, { body: '  \n ' })), ['body']);
    assert.deepEqual(badFields(await post(videoId, user, { body: 'a\u0000b' })), ['body']);
    assert.deepEqual(badFields(await post(videoId, user, {})), ['body']);
    // Characters, not UTF-16 units: 2000 emoji fit.
    const long = await post(videoId, user, { body: '🎬'.repeat(2000) });
    assert.equal(long.status, 201, JSON.stringify(long.body).slice(0, 300));
    assert.equal(long.body.body.length, 4000);
  });
});

describe('the rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the per-user limit, for that user only', async () => {
    const { videoId } = await ownedVideo();
    const [busy, calm] = [await registerUser(t), await registerUser(t)];
    for (let i = 0; i < RATE; i++) await comment(videoId, busy, `comment ${i}`);
    const res = await post(videoId, busy, { body: 'one too many' });
    assertProblem(res, 429, 'RATE_LIMITED');
    const retry = Number(res.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    await comment(videoId, calm, 'still fine');
    assert.equal((await video(videoId)).body.comments_count, RATE + 1);
  });
});

describe('the comments switch', () => {
  it('lets the owner turn comments off and on again', async () => {
    const { owner, videoId } = await ownedVideo();
    const user = await registerUser(t);
    const kept = await comment(videoId, user, 'Before the switch');

    const stranger = await api(t, 'PATCH', `/api/v1/videos/${videoId}`, {
      token: user.access_token,
      body: { comments_enabled: false },
    });
    assertProblem(stranger, 403, 'PERMISSION_DENIED');

    const off = await api(t, 'PATCH', `/api/v1/videos/${videoId}`, {
      token: owner.access_token,
      body: { comments_enabled: false },
    });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.comments_enabled, false);
    const updated = (await eventsOf(t, videoId)).filter((e) => e.type === 'video.updated');
    assert.deepEqual(updated.at(-1)?.payload.fields, ['comments_enabled']);

    assertProblem(await post(videoId, user, { body: 'Am I heard?' }), 403, 'COMMENTS_DISABLED');
    assertProblem(await post(videoId, owner, { body: 'Not even me' }), 403, 'COMMENTS_DISABLED');
    const page = await list(videoId, user.access_token);
    assert.equal(page.status, 200);
    assert.deepEqual(page.body, { items: [], next_cursor: null, comments_enabled: false });
    assert.deepEqual((await replies(kept.id)).body.items, []);
    assertProblem(await one(kept.id), 404, 'COMMENT_NOT_FOUND');
    assert.equal((await video(videoId)).body.comments_enabled, false);

    const on = await api(t, 'PUT', `/api/v1/videos/${videoId}`, {
      token: owner.access_token,
      body: { comments_enabled: true },
    });
    assert.equal(on.body.comments_enabled, true);
    const again = await list(videoId);
    assert.equal(again.body.comments_enabled, true);
    assert.deepEqual(
      again.body.items.map((i: { id: string }) => i.id),
      [kept.id],
    );
    await comment(videoId, user, 'After the switch');
  });
});

describe('mentions', () => {
  it('resolves @usernames of active accounts, stores them and announces them', async () => {
    const { videoId } = await ownedVideo();
    const [author, named, shouted, hidden] = [
      await registerUser(t),
      await registerUser(t),
      await registerUser(t),
      await registerUser(t),
    ];
    const hide = await api(t, 'PUT', `/api/v1/admin/users/${hidden.id}/hide`, {
      token: admin.access_token,
      body: {},
    });
    assert.ok(hide.status < 300, JSON.stringify(hide.body));
    const text =
      `@${named.username} look, and @${shouted.username.toUpperCase()}, again @${named.username}; ` +
      `not @nobody_here_at_all, not @${hidden.username}, not me @${author.username}, ` +
      `not mail@${named.username}`;
    const made = await comment(videoId, author, text);
    const { rows } = await sql<{ mentions: string[] }>`
      select mentions from comments where id = ${made.id}`.execute(t.app.database.db);
    assert.deepEqual(rows[0]!.mentions, [named.id, shouted.id]);
    const created = (await eventsOf(t, videoId)).find(
      (e) => e.type === 'comment.created' && e.payload.comment_id === made.id,
    );
    assert.deepEqual(created?.payload.mentioned_user_ids, [named.id, shouted.id]);
  });
});

describe('pages', () => {
  it('pages newest first and most liked first with cursors', async () => {
    const { videoId } = await ownedVideo();
    const users: User[] = [];
    for (let i = 0; i < 5; i++) users.push(await registerUser(t));
    const made: string[] = [];
    for (const [i, u] of users.entries()) made.push((await comment(videoId, u, `number ${i}`)).id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await list(videoId, undefined, query);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items.map((i: { id: string }) => i.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, [...made].reverse());

    // Likes: #1 three, #3 two, #4 one.
    const like = async (id: string, u: User) => {
      const res = await api(t, 'POST', `/api/v1/like/comment/${id}`, { token: u.access_token });
      assert.equal(res.status, 204, JSON.stringify(res.body));
    };
    for (const u of users.slice(0, 3)) await like(made[1]!, u);
    for (const u of users.slice(0, 2)) await like(made[3]!, u);
    await like(made[4]!, users[0]!);

    const top1 = await list(videoId, users[0]!.access_token, '?order=top&limit=3');
    assert.deepEqual(
      top1.body.items.map((i: { id: string; like_count: number; liked_by_me: boolean }) => [
        i.id,
        i.like_count,
        i.liked_by_me,
      ]),
      [
        [made[1], 3, true],
        [made[3], 2, true],
        [made[4], 1, true],
      ],
    );
    const top2 = await list(videoId, undefined, `?order=top&limit=3&cursor=${top1.body.next_cursor}`);
    assert.deepEqual(
      top2.body.items.map((i: { id: string }) => i.id),
      [made[2], made[0]],
    );
    assert.equal(top2.body.next_cursor, null);

    // A cursor of one order is no cursor of the other.
    const mixed = await list(videoId, undefined, `?order=newest&cursor=${top1.body.next_cursor}`);
    assert.deepEqual(badFields(mixed), ['cursor']);
    assert.deepEqual(badFields(await list(videoId, undefined, '?order=oldest')), ['order']);
  });

  it('pages replies oldest first', async () => {
    const { videoId } = await ownedVideo();
    const head = await comment(videoId, await registerUser(t), 'Thread');
    const made: string[] = [];
    for (let i = 0; i < 3; i++)
      made.push((await comment(videoId, await registerUser(t), `r${i}`, head.id)).id);
    const first = await replies(head.id, undefined, '?limit=2');
    const second = await replies(head.id, undefined, `?limit=2&cursor=${first.body.next_cursor}`);
    assert.deepEqual(
      [...first.body.items, ...second.body.items].map((i: { id: string }) => i.id),
      made,
    );
    assert.equal(second.body.next_cursor, null);
  });
});

describe('who may read and write', () => {
  it('hides the comments of a private video from strangers', async () => {
    const { owner, videoId } = await ownedVideo({ title: 'Secret', visibility: 'private' });
    const mine = await comment(videoId, owner, 'Note to self');
    const stranger = await registerUser(t);
    assertProblem(await list(videoId, stranger.access_token), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await list(videoId), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await one(mine.id, stranger.access_token), 404, 'COMMENT_NOT_FOUND');
    assertProblem(await replies(mine.id), 404, 'COMMENT_NOT_FOUND');
    assertProblem(await post(videoId, stranger, { body: 'Hello?' }), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await remove(mine.id, stranger), 404, 'COMMENT_NOT_FOUND');
    assert.equal((await list(videoId, owner.access_token)).body.items.length, 1);
    assert.equal((await list(videoId, admin.access_token)).body.items.length, 1);
  });

  it('asks for the membership of a members-only video', async () => {
    const { videoId } = await ownedVideo({ title: 'Members', accessTier: 1 });
    const stranger = await registerUser(t);
    assertProblem(await post(videoId, stranger, { body: 'Let me in' }), 403, 'MEMBERSHIP_REQUIRED');
    assertProblem(await list(videoId, stranger.access_token), 403, 'MEMBERSHIP_REQUIRED');
  });

  it('needs a signed-in user to write', async () => {
    const { videoId } = await ownedVideo();
    const res = await api(t, 'POST', `/api/v1/videos/${videoId}/comments`, { body: { body: 'anon' } });
    assert.equal(res.status, 401);
    assertProblem(await list('not-a-uuid'), 400, 'VALIDATION_FAILED');
  });

  it("goes with the video, and a deleted video's comments with it", async () => {
    const { owner, videoId } = await ownedVideo();
    await comment(videoId, await registerUser(t), 'Soon gone');
    const down = await api(t, 'PATCH', `/api/v1/videos/${videoId}/publish`, {
      token: owner.access_token,
      body: { published: false },
    });
    assert.equal(down.status, 200, JSON.stringify(down.body));
    assert.equal(
      (await api(t, 'DELETE', `/api/v1/videos/${videoId}`, { token: owner.access_token })).status,
      204,
    );
    await eventsDelivered(t);
    const { rows } = await sql<{ n: number }>`
      select (select count(*) from comments where video_id = ${videoId})::int
        + (select count(*) from video_comment_counts where video_id = ${videoId})::int as n`.execute(
      t.app.database.db,
    );
    assert.equal(rows[0]!.n, 0);
  });
});
