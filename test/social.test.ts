// Follows, user stats and channel subscriptions, through HTTP: idempotent changes, counters that stay
// exact under concurrent requests, cursor pages, and the tier-1 membership that members-only videos ask.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { eventsOf, type SignedIn, startAdminApp } from './helpers/admin.ts';
import { type ApiResponse, api, registerUser, type TestApp } from './helpers/app.ts';
import { insertVideo } from './helpers/discovery-rows.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem } from './helpers/problems.ts';

type User = Awaited<ReturnType<typeof registerUser>>;

let t: TestApp;
let admin: SignedIn;
before(async () => {
  ({ t, admin } = await startAdminApp());
});
after(() => t.stop());

const db = () => t.app.database.db;

/** `n` fresh users, a few registrations at a time (each hashes a password). */
async function users(n: number): Promise<User[]> {
  const made: User[] = [];
  while (made.length < n) {
    const batch = Math.min(8, n - made.length);
    made.push(...(await Promise.all(Array.from({ length: batch }, () => registerUser(t)))));
  }
  return made;
}

const follow = (who: User, id: string) =>
  api(t, 'POST', `/api/v1/users/${id}/follow`, { token: who.access_token });
const unfollow = (who: User, id: string) =>
  api(t, 'DELETE', `/api/v1/users/${id}/follow`, { token: who.access_token });
const stats = (id: string, token?: string) => api(t, 'GET', `/api/v1/users/${id}/stats`, { token });
const isFollowing = async (who: User, id: string) => {
  const res = await api(t, 'GET', `/api/v1/users/${id}/is-following`, { token: who.access_token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.following as boolean;
};
const hide = async (id: string) =>
  assert.equal(
    (await api(t, 'PUT', `/api/v1/admin/users/${id}/hide`, { token: admin.access_token })).status,
    200,
  );

/** Every item of a list, page by page; checks that no page is longer than asked. */
async function allPages(path: string, limit: number, token?: string): Promise<{ id: string }[][]> {
  const pages: { id: string }[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await api(
      t,
      'GET',
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      {
        token,
      },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.items.length <= limit);
    pages.push(res.body.items);
    cursor = res.body.next_cursor;
  } while (cursor);
  return pages;
}

/** user_follow_counts against the follows rows, for every user that has either. */
async function countersDisagreeing(): Promise<unknown[]> {
  const { rows } = await sql`
    with truth as (
      select u.id,
        (select count(*) from follows f where f.followee_id = u.id) as followers,
        (select count(*) from follows f where f.follower_id = u.id) as following
      from users u)
    select t.id, t.followers, t.following, c.followers as c_followers, c.following as c_following
    from truth t left join user_follow_counts c on c.user_id = t.id
    where t.followers <> coalesce(c.followers, 0) or t.following <> coalesce(c.following, 0)`.execute(db());
  return rows;
}

describe('follows', () => {
  it('follow and unfollow are idempotent, and announce only real changes', async () => {
    const [a, b] = await users(2);
    for (let i = 0; i < 2; i++) assert.equal((await follow(a!, b!.id)).status, 204);
    assert.equal(await isFollowing(a!, b!.id), true);
    assert.equal(await isFollowing(b!, a!.id), false);
    assert.equal((await stats(b!.id)).body.followers_count, 1);
    assert.equal((await stats(a!.id)).body.following_count, 1);

    for (let i = 0; i < 2; i++) assert.equal((await unfollow(a!, b!.id)).status, 204);
    assert.equal(await isFollowing(a!, b!.id), false);
    const after = (await stats(b!.id)).body;
    assert.equal(after.followers_count, 0);
    assert.equal((await stats(a!.id)).body.following_count, 0);

    const events = await eventsOf(t, `${a!.id}:${b!.id}`);
    assert.deepEqual(
      events.map((e) => e.type),
      ['user.followed', 'user.unfollowed'],
    );
    assert.deepEqual(events[0]!.payload, { follower_id: a!.id, followee_id: b!.id });
  });

  it('refuses oneself, strangers to the site, hidden accounts and anonymous callers', async () => {
    const [a, b, shy] = await users(3);
    assertProblem(await follow(a!, a!.id), 422, 'CANNOT_FOLLOW_SELF');
    assertProblem(await unfollow(a!, a!.id), 422, 'CANNOT_FOLLOW_SELF');
    assertProblem(await follow(a!, uuidv7()), 404, 'USER_NOT_FOUND');
    assertProblem(await api(t, 'POST', `/api/v1/users/${b!.id}/follow`), 401, 'TOKEN_MISSING');
    assert.equal((await api(t, 'POST', '/api/v1/users/nope/follow', { token: a!.access_token })).status, 400);

    assert.equal((await follow(shy!, b!.id)).status, 204);
    assert.equal((await follow(b!, shy!.id)).status, 204);
    await hide(shy!.id);
    assertProblem(await follow(a!, shy!.id), 404, 'USER_NOT_FOUND');
    assertProblem(await stats(shy!.id, a!.access_token), 404, 'USER_NOT_FOUND');
    assertProblem(await api(t, 'GET', `/api/v1/users/${shy!.id}/followers`), 404, 'USER_NOT_FOUND');
    assertProblem(
      await api(t, 'GET', `/api/v1/users/${shy!.id}/is-following`, { token: a!.access_token }),
      404,
      'USER_NOT_FOUND',
    );
    // Administrators still see the account; nobody's lists show it.
    assert.equal((await stats(shy!.id, admin.access_token)).status, 200);
    const followers = await api(t, 'GET', `/api/v1/users/${b!.id}/followers`);
    assert.deepEqual(followers.body.items, []);
    const following = await api(t, 'GET', `/api/v1/users/${b!.id}/following`);
    assert.deepEqual(following.body.items, []);
  });

  it('counts 50 concurrent follows of one user exactly, and pages through them newest first', async () => {
    const [star] = await users(1);
    const fans = await users(50);
    const answers = await Promise.all(fans.map((f) => follow(f, star!.id)));
    assert.deepEqual(new Set(answers.map((r) => r.status)), new Set([204]));
    const s = (await stats(star!.id)).body;
    assert.equal(s.followers_count, 50);
    assert.equal(s.following_count, 0);

    const pages = await allPages(`/api/v1/users/${star!.id}/followers`, 20);
    assert.deepEqual(
      pages.map((p) => p.length),
      [20, 20, 10],
    );
    const listed = pages.flat() as { id: string; username: string; followed_at: string }[];
    assert.deepEqual(new Set(listed.map((u) => u.id)), new Set(fans.map((f) => f.id)));
    assert.equal(new Set(listed.map((u) => u.id)).size, 50);
    const times = listed.map((u) => Date.parse(u.followed_at));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => y - x),
      'newest first',
    );
    const fan = fans[0]!;
    assert.deepEqual(listed.find((u) => u.id === fan.id)?.username, fan.username);

    // The other side: whom one fan follows.
    const following = await api(t, 'GET', `/api/v1/users/${fan.id}/following`);
    assert.deepEqual(
      following.body.items.map((u: { id: string }) => u.id),
      [star!.id],
    );
    assertProblem(
      await api(t, 'GET', `/api/v1/users/${star!.id}/followers?cursor=not-a-cursor`),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('keeps every counter equal to the follows rows under storms of follows, unfollows and crossing follows', async () => {
    const crowd = await users(12);
    const [hub] = crowd;
    const requests: Promise<unknown>[] = [];
    for (let round = 0; round < 6; round++) {
      for (const u of crowd.slice(1)) {
        // Each user follows and unfollows the hub, and the hub them (A → B while B → A), in no order.
        const on = (round + u.id.charCodeAt(30)) % 2 === 0;
        requests.push(on ? follow(u, hub!.id) : unfollow(u, hub!.id));
        requests.push(on ? unfollow(hub!, u.id) : follow(hub!, u.id));
        requests.push(follow(u, crowd[(round + 3) % crowd.length]!.id));
      }
    }
    const answers = (await Promise.all(requests)) as { status: number }[];
    for (const res of answers) assert.ok([204, 422].includes(res.status), String(res.status));
    assert.deepEqual(await countersDisagreeing(), []);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from follows where followee_id = ${hub!.id}`.execute(db());
    assert.equal((await stats(hub!.id)).body.followers_count, rows[0]!.n);
  });
  it('drops the follows of a deleted account from everyone’s counters', async () => {
    const [a, gone, b] = await users(3);
    assert.equal((await follow(a!, gone!.id)).status, 204);
    assert.equal((await follow(gone!, b!.id)).status, 204);
    assert.equal((await follow(a!, b!.id)).status, 204);
    const res = await api(t, 'DELETE', `/api/v1/admin/users/${gone!.id}`, { token: admin.access_token });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    await eventsDelivered(t);
    assert.equal((await stats(a!.id)).body.following_count, 1);
    assert.equal((await stats(b!.id)).body.followers_count, 1);
    assert.deepEqual(await countersDisagreeing(), []);
  });
});

describe('user stats', () => {
  it('counts listable videos only, and the likes the likes module counted', async () => {
    const [owner] = await users(1);
    await insertVideo(t, owner!.id, { title: 'public' });
    await insertVideo(t, owner!.id, { title: 'members', accessTier: 1 });
    await insertVideo(t, owner!.id, { title: 'private', visibility: 'private' });
    await insertVideo(t, owner!.id, { title: 'unlisted', visibility: 'unlisted' });
    await insertVideo(t, owner!.id, { title: 'draft', publication: 'draft' });
    await insertVideo(t, owner!.id, { title: 'hidden', hidden: true });
    await sql`insert into user_like_counts (user_id, likes_received) values (${owner!.id}, 7)`.execute(db());
    const res = await stats(owner!.id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      user_id: owner!.id,
      followers_count: 0,
      following_count: 0,
      videos_count: 2,
      likes_received: 7,
    });
  });
});

describe('channel subscriptions', () => {
  const channelOf = async (u: User): Promise<string> =>
    (await api(t, 'GET', '/api/v1/users/me', { token: u.access_token })).body.channel_id;
  const subscribe = (u: User, channelId: string) =>
    api(t, 'POST', `/api/v1/channels/${channelId}/subscribe`, { token: u.access_token });
  const unsubscribe = (u: User, channelId: string) =>
    api(t, 'DELETE', `/api/v1/channels/${channelId}/subscribe`, { token: u.access_token });
  const watch = (u: User, videoId: string) =>
    api(t, 'GET', `/api/v1/videos/${videoId}`, { token: u.access_token });
  const membershipEvents = async (channelId: string) =>
    (await eventsOf(t, channelId))
      .filter((e) => e.type === 'channel.membership_changed')
      .map((e) => [e.payload.user_id, e.payload.tier_before, e.payload.tier]);

  it('subscribing gives the tier a tier-1 video asks for, and unsubscribing takes it away', async () => {
    const [owner, fan] = await users(2);
    const channel = await channelOf(owner!);
    const video = await insertVideo(t, owner!.id, { title: 'For subscribers', accessTier: 1 });
    assertProblem(await watch(fan!, video), 403, 'MEMBERSHIP_REQUIRED');

    for (let i = 0; i < 2; i++) {
      const res = await subscribe(fan!, channel);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { membership_tier: 'subscriber', subscriber_count: 1 });
    }
    assert.equal((await watch(fan!, video)).status, 200);
    const page = await api(t, 'GET', `/api/v1/channels/${channel}`, { token: fan!.access_token });
    assert.equal(page.body.membership_tier, 'subscriber');
    assert.equal(page.body.subscriber_count, 1);

    for (let i = 0; i < 2; i++) {
      const res = await unsubscribe(fan!, channel);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { membership_tier: 'none', subscriber_count: 0 });
    }
    assertProblem(await watch(fan!, video), 403, 'MEMBERSHIP_REQUIRED');
    assert.deepEqual(await membershipEvents(channel), [
      [fan!.id, null, 1],
      [fan!.id, 1, null],
    ]);
  });

  it('announces one change when one user subscribes many times at once', async () => {
    const [owner, fan] = await users(2);
    const channel = await channelOf(owner!);
    const answers = await Promise.all(Array.from({ length: 10 }, () => subscribe(fan!, channel)));
    assert.deepEqual(new Set(answers.map((r) => r.status)), new Set([200]));
    assert.deepEqual(await membershipEvents(channel), [[fan!.id, null, 1]]);
  });

  it('keeps a premium member premium, and will not end a premium membership', async () => {
    const [owner, patron] = await users(2);
    const channel = await channelOf(owner!);
    await db()
      .transaction()
      .execute((tx) => t.app.services.channels.setMembership(tx, channel, patron!.id, 2));
    const res = await subscribe(patron!, channel);
    assert.deepEqual(res.body, { membership_tier: 'premium', subscriber_count: 1 });
    assertProblem(await unsubscribe(patron!, channel), 409, 'PREMIUM_MEMBERSHIP_ACTIVE');
    const page = await api(t, 'GET', `/api/v1/channels/${channel}`, { token: patron!.access_token });
    assert.equal(page.body.membership_tier, 'premium');
    // Only the premium grant itself changed anything.
    assert.deepEqual(await membershipEvents(channel), [[patron!.id, null, 2]]);
  });

  it('refuses one’s own channel, unknown channels and those of hidden accounts', async () => {
    const [owner, fan, shy] = await users(3);
    assertProblem(await subscribe(owner!, await channelOf(owner!)), 422, 'CANNOT_SUBSCRIBE_OWN_CHANNEL');
    assertProblem(await unsubscribe(owner!, await channelOf(owner!)), 422, 'CANNOT_SUBSCRIBE_OWN_CHANNEL');
    assertProblem(await subscribe(fan!, uuidv7()), 404, 'CHANNEL_NOT_FOUND');
    const shyChannel = await channelOf(shy!);
    await hide(shy!.id);
    assertProblem(await subscribe(fan!, shyChannel), 404, 'CHANNEL_NOT_FOUND');
    assertProblem(await api(t, 'POST', `/api/v1/channels/${shyChannel}/subscribe`), 401, 'TOKEN_MISSING');
    assert.deepEqual(await membershipEvents(shyChannel), []);
  });

  it('lists the channels I belong to, newest first, page by page', async () => {
    const owners = await users(4);
    const [fan] = await users(1);
    const channels: string[] = [];
    for (const o of owners) {
      const c = await channelOf(o);
      channels.push(c);
      assert.equal((await subscribe(fan!, c)).status, 200);
    }
    await db()
      .transaction()
      .execute((tx) => t.app.services.channels.setMembership(tx, channels[0]!, fan!.id, 2));
    await hide(owners[3]!.id);

    const pages = await allPages('/api/v1/users/me/subscriptions', 2, fan!.access_token);
    assert.deepEqual(
      pages.map((p) => p.length),
      [2, 1],
    );
    const items = pages.flat() as { id: string; membership_tier: string; handle: string }[];
    assert.deepEqual(
      items.map((c) => c.id),
      [channels[2], channels[1], channels[0]],
    );
    assert.deepEqual(
      items.map((c) => c.membership_tier),
      ['subscriber', 'subscriber', 'premium'],
    );
    assertProblem(await api(t, 'GET', '/api/v1/users/me/subscriptions'), 401, 'TOKEN_MISSING');
  });
});
