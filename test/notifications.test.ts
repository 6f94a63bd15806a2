// Notifications: each type made from its event (and only from events), nobody notified of their own
// act, the settings obeyed, new videos fanned out to a channel's members in slices, the list and its
// marks, the weekly cleanup, system messages, and the live stream (SSE) with its account check.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { commentCreated, commentEdited } from '../src/modules/comments/index.ts';
import { likeAggregateId, likeCreated } from '../src/modules/likes/index.ts';
import { followAggregateId, userFollowed } from '../src/modules/social/index.ts';
import { type SignedIn, startAdminApp } from './helpers/admin.ts';
import { type ApiResponse, api, registerUser, type TestApp } from './helpers/app.ts';
import { channelOf, emitEvent, publishAsOwner, setMembership } from './helpers/community.ts';
import { insertVideo } from './helpers/discovery-rows.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem } from './helpers/problems.ts';
import { openEvents } from './helpers/sse.ts';
import { waitFor } from './helpers/wait.ts';

type User = Awaited<ReturnType<typeof registerUser>>;

let t: TestApp;
let admin: SignedIn;

before(async () => {
  ({ t, admin } = await startAdminApp({
    role: 'all',
    env: {
      NOTIFICATIONS_FANOUT_BATCH: '2',
      NOTIFICATIONS_HEARTBEAT_MS: '300',
      OUTBOX_POLL_INTERVAL_MS: '100',
      WORKER_POLL_INTERVAL_MS: '100',
    },
  }));
});
after(async () => {
  await t.stop();
});

/** Every event relayed and every notifications job run. */
async function settled(): Promise<void> {
  await eventsDelivered(t);
  await waitFor('notification jobs to finish', async () => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs
      where task_identifier like 'notifications.%'`.execute(t.app.database.db);
    return rows[0]!.n === 0;
  });
  await eventsDelivered(t);
}

async function inbox(u: { access_token: string }, query = ''): Promise<ApiResponse['body'][]> {
  const res = await api(t, 'GET', `/api/v1/notifications${query}`, { token: u.access_token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items;
}

const follow = (follower: string, followee: string) =>
  emitEvent(
    t,
    userFollowed.create({
      aggregateId: followAggregateId(follower, followee),
      payload: { follower_id: follower, followee_id: followee },
    }),
  );

const like = (
  userId: string,
  type: 'video' | 'comment',
  targetId: string,
  videoId: string,
  ownerId: string,
) =>
  emitEvent(
    t,
    likeCreated.create({
      aggregateId: likeAggregateId(userId, type, targetId),
      payload: {
        user_id: userId,
        target_type: type,
        target_id: targetId,
        video_id: videoId,
        target_owner_id: ownerId,
      },
    }),
  );

describe('notifications from events', () => {
  let owner: User;
  let fan: User;
  let other: User;
  let videoId: string;

  before(async () => {
    owner = await registerUser(t);
    fan = await registerUser(t);
    other = await registerUser(t);
    videoId = await insertVideo(t, owner.id, { title: 'Night drive' });
  });

  it('follow: the followed hears once, whoever follows again; following oneself tells nobody', async () => {
    await follow(fan.id, owner.id);
    await follow(fan.id, owner.id);
    await follow(owner.id, owner.id);
    await settled();
    const items = (await inbox(owner)).filter((n) => n.type === 'follow');
    assert.equal(items.length, 1);
    assert.deepEqual(items[0].actor, { id: fan.id, username: fan.username, display_name: fan.username });
    assert.equal(items[0].read, false);
  });

  it('subscribe: a new subscriber tells the channel owner; a premium upgrade does not', async () => {
    const channelId = await channelOf(t, owner);
    await setMembership(t, channelId, other.id, 1);
    await setMembership(t, channelId, other.id, 2);
    await settled();
    const items = (await inbox(owner)).filter((n) => n.type === 'subscribe');
    assert.equal(items.length, 1);
    assert.equal(items[0].actor.id, other.id);
    assert.equal(items[0].channel.id, channelId);
    await setMembership(t, channelId, other.id, null);
  });

  it('like: the owner of the video or comment hears; liking one’s own tells nobody', async () => {
    const commentId = uuidv7();
    await like(fan.id, 'video', videoId, videoId, owner.id);
    await like(owner.id, 'video', videoId, videoId, owner.id);
    await like(owner.id, 'comment', commentId, videoId, fan.id);
    await settled();
    const ownerLikes = (await inbox(owner)).filter((n) => n.type === 'like');
    assert.equal(ownerLikes.length, 1);
    assert.deepEqual(ownerLikes[0].video, { id: videoId, title: 'Night drive' });
    assert.equal(ownerLikes[0].comment_id, null);
    const fanLikes = (await inbox(fan)).filter((n) => n.type === 'like');
    assert.equal(fanLikes.length, 1);
    assert.equal(fanLikes[0].comment_id, commentId);
    assert.equal(fanLikes[0].actor.id, owner.id);
  });

  it('comment, reply, mention: one notification each, reply and mention before comment, never the author', async () => {
    const parentAuthor = await registerUser(t);
    const named = await registerUser(t);
    const author = await registerUser(t);
    const commentId = uuidv7();
    await emitEvent(
      t,
      commentCreated.create({
        aggregateId: videoId,
        payload: {
          comment_id: commentId,
          video_id: videoId,
          author_id: author.id,
          video_owner_id: owner.id,
          parent_id: uuidv7(),
          parent_author_id: parentAuthor.id,
          // The parent's author is named too, and the author names themselves.
          mentioned_user_ids: [named.id, parentAuthor.id, author.id],
        },
      }),
    );
    // A comment by the owner on their own video tells the owner nothing.
    await emitEvent(
      t,
      commentCreated.create({
        aggregateId: videoId,
        payload: {
          comment_id: uuidv7(),
          video_id: videoId,
          author_id: owner.id,
          video_owner_id: owner.id,
          parent_id: null,
          parent_author_id: null,
          mentioned_user_ids: [],
        },
      }),
    );
    await settled();
    const typesOf = async (u: User) =>
      (await inbox(u)).filter((n) => n.comment_id === commentId).map((n) => n.type);
    assert.deepEqual(await typesOf(owner), ['comment']);
    assert.deepEqual(await typesOf(parentAuthor), ['reply']);
    assert.deepEqual(await typesOf(named), ['mention']);
    assert.deepEqual(await typesOf(author), []);
    assert.equal((await inbox(owner)).filter((n) => n.type === 'comment').length, 1);

    // An edit naming someone new tells them, and nobody already told of this comment.
    const late = await registerUser(t);
    await emitEvent(
      t,
      commentEdited.create({
        aggregateId: videoId,
        payload: {
          comment_id: commentId,
          video_id: videoId,
          author_id: author.id,
          mentioned_user_ids: [late.id, named.id],
        },
      }),
    );
    await settled();
    assert.deepEqual(await typesOf(late), ['mention']);
    assert.deepEqual(await typesOf(named), ['mention']);
  });

  it('a mention in a video the named user cannot see tells them nothing', async () => {
    const privateVideo = await insertVideo(t, owner.id, { title: 'Secret', visibility: 'private' });
    const named = await registerUser(t);
    await emitEvent(
      t,
      commentCreated.create({
        aggregateId: privateVideo,
        payload: {
          comment_id: uuidv7(),
          video_id: privateVideo,
          author_id: owner.id,
          video_owner_id: owner.id,
          parent_id: null,
          parent_author_id: null,
          mentioned_user_ids: [named.id],
        },
      }),
    );
    await settled();
    assert.deepEqual(await inbox(named), []);
  });

  it('a type turned off in the app is not stored; the others still are', async () => {
    const picky = await registerUser(t);
    const res = await api(t, 'PUT', '/api/v1/notifications/settings', {
      token: picky.access_token,
      body: { follow: { in_app: false } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.follow, { in_app: false, push: false });
    assert.deepEqual(res.body.new_video, { in_app: true, push: true });
    const got = await api(t, 'GET', '/api/v1/notifications/settings', { token: picky.access_token });
    assert.deepEqual(got.body, res.body);

    const pickyVideo = await insertVideo(t, picky.id, { title: 'Mine' });
    await follow(fan.id, picky.id);
    await like(fan.id, 'video', pickyVideo, pickyVideo, picky.id);
    await settled();
    assert.deepEqual(
      (await inbox(picky)).map((n) => n.type),
      ['like'],
    );

    const bad = await api(t, 'PUT', '/api/v1/notifications/settings', {
      token: picky.access_token,
      body: { gossip: { in_app: true } },
    });
    assertProblem(bad, 400, 'VALIDATION_FAILED');
  });
});

describe('notifications from the community routes', () => {
  it('following, subscribing, liking, commenting, replying and naming through the API notify', async () => {
    const owner = await registerUser(t);
    const fan = await registerUser(t);
    const named = await registerUser(t);
    const videoId = await insertVideo(t, owner.id, { title: 'Harbour lights' });
    const channelId = await channelOf(t, owner);
    const as = (u: User, method: string, path: string, body?: unknown) =>
      api(t, method, path, { token: u.access_token, body });
    assert.equal((await as(fan, 'POST', `/api/v1/users/${owner.id}/follow`)).status, 204);
    assert.equal((await as(fan, 'POST', `/api/v1/channels/${channelId}/subscribe`)).status, 200);
    assert.equal((await as(fan, 'POST', `/api/v1/like/video/${videoId}`)).status, 204);
    const comment = await as(fan, 'POST', `/api/v1/videos/${videoId}/comments`, {
      body: `Lovely light, @${named.username}`,
    });
    assert.equal(comment.status, 201, JSON.stringify(comment.body));
    const reply = await as(owner, 'POST', `/api/v1/videos/${videoId}/comments`, {
      body: 'Thank you!',
      parent_id: comment.body.id,
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    await settled();

    const ownerInbox = await inbox(owner);
    assert.deepEqual(ownerInbox.map((n) => n.type).sort(), ['comment', 'follow', 'like', 'subscribe']);
    assert.ok(ownerInbox.every((n) => n.actor.id === fan.id));
    const said = ownerInbox.find((n) => n.type === 'comment');
    assert.equal(said.comment_id, comment.body.id);
    assert.equal(said.excerpt, `Lovely light, @${named.username}`);
    assert.deepEqual(said.video, { id: videoId, title: 'Harbour lights' });
    const [mention] = await inbox(named);
    assert.equal(mention.type, 'mention');
    assert.equal(mention.comment_id, comment.body.id);
    const [answered] = await inbox(fan);
    assert.equal(answered.type, 'reply');
    assert.equal(answered.actor.id, owner.id);
    assert.equal(answered.excerpt, 'Thank you!');
  });
});

describe('new videos', () => {
  let creator: User;
  let channelId: string;
  const members: User[] = [];
  let premium: User;

  before(async () => {
    creator = await registerUser(t);
    channelId = await channelOf(t, creator);
    for (let i = 0; i < 5; i++) {
      const m = await registerUser(t);
      members.push(m);
      await setMembership(t, channelId, m.id, 1);
    }
    premium = await registerUser(t);
    await setMembership(t, channelId, premium.id, 2);
    await settled();
  });

  const storedFor = async (videoId: string) => {
    const { rows } = await sql<{ user_id: string; n: number }>`
      select user_id, count(*)::int as n from notifications
      where video_id = ${videoId} and type = 'new_video' group by user_id`.execute(t.app.database.db);
    return rows;
  };

  it('reaches every member of the channel exactly once, in slices, and never its owner', async () => {
    const videoId = await publishAsOwner(t, creator, { title: 'Episode 1' });
    await settled();
    const rows = await storedFor(videoId);
    assert.equal(rows.length, 6, 'five subscribers and one premium member');
    assert.ok(rows.every((r) => r.n === 1));
    assert.ok(!rows.some((r) => r.user_id === creator.id));
    // Each slice is a transaction of its own (FANOUT_BATCH=2): three slices, three creation times.
    const slices = await sql<{ n: number }>`select count(distinct created_at)::int as n from notifications
      where video_id = ${videoId}`.execute(t.app.database.db);
    assert.equal(slices.rows[0]!.n, 3);
    const [n] = (await inbox(members[0]!)).filter((x) => x.type === 'new_video');
    assert.deepEqual(n.video, { id: videoId, title: 'Episode 1' });
    assert.equal(n.channel.id, channelId);
    assert.equal(n.actor, null);
  });

  it('a fan-out slice run again stores nothing twice', async () => {
    const videoId = await insertVideo(t, creator.id, { title: 'Episode 2' });
    const job = t.app.jobs.get('notifications.fan_out')!;
    const payload = {
      source_id: `video:${videoId}`,
      audience: { kind: 'channel', channel_id: channelId, min_tier: 1, exclude_user_id: creator.id },
      notification: {
        type: 'new_video',
        actor_id: null,
        video_id: videoId,
        channel_id: channelId,
        data: { video: { id: videoId, title: 'Episode 2' } },
      },
    };
    const ctx = { jobId: '0', attempts: 1, maxAttempts: 1, signal: new AbortController().signal };
    const ids = [...members.map((m) => m.id), premium.id].sort();
    // The slice of the first two (FANOUT_BATCH), run twice: two rows.
    const first = { ...payload, range: { after: null, upto: ids[1]! } };
    await job.handler(first, ctx);
    await job.handler(first, ctx);
    assert.equal((await storedFor(videoId)).length, 2);
    // The rest, run twice, and the first once more: each member once.
    const rest = { ...payload, range: { after: ids[1]!, upto: null } };
    await job.handler(rest, ctx);
    await job.handler(rest, ctx);
    await job.handler(first, ctx);
    await settled();
    const rows = await storedFor(videoId);
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r) => r.n === 1));
  });

  it('a premium-only video reaches premium members only', async () => {
    const videoId = await publishAsOwner(t, creator, { title: 'Bonus', accessTier: 2 });
    await settled();
    assert.deepEqual(
      (await storedFor(videoId)).map((r) => r.user_id),
      [premium.id],
    );
  });

  it('private, unlisted and hidden videos are never announced', async () => {
    const privateId = await publishAsOwner(t, creator, { title: 'Private', visibility: 'private' });
    const unlistedId = await publishAsOwner(t, creator, { title: 'Unlisted', visibility: 'unlisted' });
    const hiddenId = await publishAsOwner(t, creator, { title: 'Hidden', hidden: true });
    await settled();
    for (const id of [privateId, unlistedId, hiddenId]) assert.deepEqual(await storedFor(id), [], id);
  });

  it('a subscriber hears of a new video over the live stream within a second of its publication', async (ctx) => {
    const listener = members[1]!;
    const stream = await openEvents(`${t.url}/api/v1/notifications/stream`, listener.access_token);
    try {
      const hello = await stream.until('unread');
      assert.equal(typeof hello.data.count, 'number');
      const started = performance.now();
      const id = await publishAsOwner(t, creator, { title: 'Live one' });
      const arrived = await stream.until('notification', 1000);
      const elapsed = performance.now() - started;
      assert.equal(arrived.data.type, 'new_video');
      assert.equal(arrived.data.video.id, id);
      assert.ok(elapsed <= 1000, `took ${Math.round(elapsed)} ms`);
      ctx.diagnostic(`heard ${Math.round(elapsed)} ms after the publication`);
      await settled();
      assert.equal(stream.events.filter((e) => e.event === 'notification').length, 1, 'sent once');
    } finally {
      stream.close();
    }
  });
});

describe('reading notifications', () => {
  let reader: User;
  const followers: User[] = [];

  before(async () => {
    reader = await registerUser(t);
    for (let i = 0; i < 5; i++) {
      const f = await registerUser(t);
      followers.push(f);
      await follow(f.id, reader.id);
    }
    await settled();
  });

  it('lists newest first by pages, counts unread, marks one and all read', async () => {
    const first = await api(t, 'GET', '/api/v1/notifications?limit=2', { token: reader.access_token });
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.items.map((n: { actor: { id: string } }) => n.actor.id),
      [followers[4]!.id, followers[3]!.id],
    );
    const second = await api(t, 'GET', `/api/v1/notifications?limit=2&cursor=${first.body.next_cursor}`, {
      token: reader.access_token,
    });
    assert.deepEqual(
      second.body.items.map((n: { actor: { id: string } }) => n.actor.id),
      [followers[2]!.id, followers[1]!.id],
    );
    const count = async () =>
      (await api(t, 'GET', '/api/v1/notifications/unread-count', { token: reader.access_token })).body.count;
    assert.equal(await count(), 5);

    const target = second.body.items[0];
    const read = await api(t, 'PUT', `/api/v1/notifications/${target.id}/read`, {
      token: reader.access_token,
    });
    assert.equal(read.status, 204);
    assert.equal(await count(), 4);
    const unread = await inbox(reader, '?unread_only=true');
    assert.equal(unread.length, 4);
    assert.ok(!unread.some((n) => n.id === target.id));
    const all = await inbox(reader);
    assert.equal(all.find((n) => n.id === target.id).read, true);

    // Someone else's notification, or none at all: not found.
    const stranger = await registerUser(t);
    assertProblem(
      await api(t, 'PUT', `/api/v1/notifications/${target.id}/read`, { token: stranger.access_token }),
      404,
      'NOTIFICATION_NOT_FOUND',
    );
    assertProblem(
      await api(t, 'PUT', '/api/v1/notifications/abc/read', { token: reader.access_token }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(await api(t, 'GET', '/api/v1/notifications'), 401, 'TOKEN_MISSING');

    assert.equal(
      (await api(t, 'PUT', '/api/v1/notifications/read-all', { token: reader.access_token })).status,
      204,
    );
    assert.equal(await count(), 0);
    assert.deepEqual(await inbox(reader, '?unread_only=true'), []);
    assert.equal((await inbox(reader)).length, 5);
  });

  it('the weekly cleanup removes only notifications read more than 30 days ago', async () => {
    const keeper = await registerUser(t);
    const sources = [];
    for (let i = 0; i < 4; i++) {
      const f = await registerUser(t);
      sources.push(f);
      await follow(f.id, keeper.id);
    }
    await settled();
    const db = t.app.database.db;
    const mark = (actor: string, readAt: string | null, createdAt: string) =>
      sql`update notifications set read_at = ${readAt}::timestamptz, created_at = ${createdAt}::timestamptz
        where user_id = ${keeper.id} and actor_id = ${actor}`.execute(db);
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
    await mark(sources[0]!.id, daysAgo(31), daysAgo(40)); // read long ago: goes
    await mark(sources[1]!.id, daysAgo(29), daysAgo(40)); // read recently: stays
    await mark(sources[2]!.id, null, daysAgo(60)); // never read: stays
    const job = t.app.jobs.get('notifications.clean_read')!;
    assert.equal(job.cron, '23 3 * * 0');
    await job.handler({}, { jobId: '0', attempts: 1, maxAttempts: 1, signal: new AbortController().signal });
    const left = (await inbox(keeper)).map((n) => n.actor.id).sort();
    assert.deepEqual(left, [sources[1]!.id, sources[2]!.id, sources[3]!.id].sort());
  });
});

describe('system messages', () => {
  it('an administrator writes to one account, or to every account through a fan-out', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const one = await api(t, 'POST', '/api/v1/admin/notifications', {
      token: admin.access_token,
      body: { user_id: a.id, message: 'Maintenance tonight' },
    });
    assert.equal(one.status, 202, JSON.stringify(one.body));
    assert.equal(one.body.recipients, 'one');
    const all = await api(t, 'POST', '/api/v1/admin/notifications', {
      token: admin.access_token,
      body: { message: 'Welcome, everyone' },
    });
    assert.equal(all.status, 202);
    await settled();
    assert.deepEqual(
      (await inbox(a)).filter((n) => n.type === 'system').map((n) => n.message),
      ['Welcome, everyone', 'Maintenance tonight'],
    );
    assert.deepEqual(
      (await inbox(b)).filter((n) => n.type === 'system').map((n) => n.message),
      ['Welcome, everyone'],
    );
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from notifications
      where source_id = ${`system:${all.body.id}`}`.execute(t.app.database.db);
    const users = await sql<{
      n: number;
    }>`select count(*)::int as n from users where status = 'active'`.execute(t.app.database.db);
    assert.equal(rows[0]!.n, users.rows[0]!.n);

    assertProblem(
      await api(t, 'POST', '/api/v1/admin/notifications', { token: a.access_token, body: { message: 'hi' } }),
      403,
      'ADMIN_REQUIRED',
    );
    assertProblem(
      await api(t, 'POST', '/api/v1/admin/notifications', {
        token: admin.access_token,
        body: { user_id: uuidv7(), message: 'hi' },
      }),
      404,
      'USER_NOT_FOUND',
    );
  });
});

describe('the live stream', () => {
  it('ends when the account is hidden', async () => {
    const u = await registerUser(t);
    const stream = await openEvents(`${t.url}/api/v1/notifications/stream`, u.access_token);
    try {
      await stream.until('unread');
      const hidden = await api(t, 'PUT', `/api/v1/admin/users/${u.id}/hide`, {
        token: admin.access_token,
        body: {},
      });
      assert.equal(hidden.status, 200, JSON.stringify(hidden.body));
      // The heartbeat (300 ms here) checks the account again.
      assert.equal(await stream.end(3000), 'ended');
    } finally {
      stream.close();
    }
  });

  it('needs a signed-in caller', async () => {
    assertProblem(await api(t, 'GET', '/api/v1/notifications/stream'), 401, 'TOKEN_MISSING');
  });
});
