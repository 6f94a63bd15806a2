// Web Push: a subscriber hears of a new video with the tab closed. The push service here verifies the
// VAPID signature and decrypts the message as a browser would; settings decide what is pushed; a
// subscription the push service says is gone is removed; endpoints in private networks are refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { commentCreated } from '../src/modules/comments/index.ts';
import { followAggregateId, userFollowed } from '../src/modules/social/index.ts';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { channelOf, emitEvent, publishAsOwner, setMembership } from './helpers/community.ts';
import { insertVideo } from './helpers/discovery-rows.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { type Browser, newBrowser, type PushService, startPushService } from './helpers/push-service.ts';
import { waitFor } from './helpers/wait.ts';

type User = Awaited<ReturnType<typeof registerUser>>;

let t: TestApp;
let push: PushService;

before(async () => {
  t = await startTestApp(
    {
      WEB_PUSH_ALLOW_PRIVATE_NETWORKS: 'true',
      WEB_PUSH_SUBJECT: 'mailto:ops@vireo.example',
      OUTBOX_POLL_INTERVAL_MS: '100',
      WORKER_POLL_INTERVAL_MS: '100',
    },
    { role: 'all' },
  );
  push = await startPushService();
});
after(async () => {
  await push.close();
  await t.stop();
});

async function settled(): Promise<void> {
  await eventsDelivered(t);
  await waitFor('notification jobs to finish', async () => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs
      where task_identifier like 'notifications.%'`.execute(t.app.database.db);
    return rows[0]!.n === 0;
  });
}

async function subscribe(u: User, browser: Browser, endpoint = push.endpointFor(browser)) {
  const res = await api(t, 'POST', '/api/v1/notifications/push/subscriptions', {
    token: u.access_token,
    body: { endpoint, keys: browser.keys, expirationTime: null },
  });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return { ...res.body, status: res.status } as { id: string; endpoint: string; status: number };
}

const pushesTo = (endpoint: string) => push.received.filter((p) => endpoint.endsWith(p.path));
/** Resolves with the pushes to `endpoint` once there is one. */
const firstPushTo = (endpoint: string) =>
  waitFor('a push', () => (pushesTo(endpoint).length > 0 ? pushesTo(endpoint) : undefined));

describe('web push', () => {
  let creator: User;
  let channelId: string;

  before(async () => {
    creator = await registerUser(t);
    channelId = await channelOf(t, creator);
  });

  it('a subscriber hears of a new video: signed with VAPID, encrypted for their browser', async () => {
    const fan = await registerUser(t);
    const key = await api(t, 'GET', '/api/v1/notifications/push/key', { token: fan.access_token });
    assert.equal(key.status, 200);
    assert.match(key.body.public_key, /^[A-Za-z0-9_-]{87}$/);

    await setMembership(t, channelId, fan.id, 1);
    const browser = newBrowser();
    const sub = await subscribe(fan, browser);
    assert.equal(sub.status, 201);
    // The same browser again: the same subscription.
    assert.equal((await subscribe(fan, browser, sub.endpoint)).status, 200);

    const videoId = await publishAsOwner(t, creator, { title: 'Tide pools' });
    const [delivered] = await firstPushTo(sub.endpoint);
    assert.deepEqual(push.refused, []);
    assert.equal(delivered!.vapidKey, key.body.public_key);
    assert.equal(delivered!.claims.aud, push.origin);
    assert.equal(delivered!.claims.sub, 'mailto:ops@vireo.example');
    const { id, created_at, ...message } = delivered!.message;
    assert.deepEqual(message, {
      type: 'new_video',
      title: (await api(t, 'GET', `/api/v1/channels/${channelId}`)).body.name,
      body: 'New video: Tide pools',
      url: `/videos/${videoId}`,
    });
    const listed = await api(t, 'GET', '/api/v1/notifications', { token: fan.access_token });
    assert.equal(listed.body.items[0].id, id);
    assert.equal(listed.body.items[0].created_at, created_at);

    await settled();
    assert.equal(pushesTo(sub.endpoint).length, 1, 'pushed once');
    const { rows } = await sql<{ last_success_at: Date | null }>`
      select last_success_at from push_subscriptions where id = ${sub.id}`.execute(t.app.database.db);
    assert.ok(rows[0]!.last_success_at);
  });

  it('pushes only the types the user wants pushed; the list still has them', async () => {
    const fan = await registerUser(t);
    await setMembership(t, channelId, fan.id, 1);
    const browser = newBrowser();
    const sub = await subscribe(fan, browser);
    const off = await api(t, 'PUT', '/api/v1/notifications/settings', {
      token: fan.access_token,
      body: { new_video: { push: false } },
    });
    assert.deepEqual(off.body.new_video, { in_app: true, push: false });

    const videoId = await publishAsOwner(t, creator, { title: 'Quiet one' });
    // A follow is not pushed by default; a mention is.
    const follower = await registerUser(t);
    await emitEvent(
      t,
      userFollowed.create({
        aggregateId: followAggregateId(follower.id, fan.id),
        payload: { follower_id: follower.id, followee_id: fan.id },
      }),
    );
    const ownVideo = await insertVideo(t, creator.id, { title: 'Talk' });
    await emitEvent(
      t,
      commentCreated.create({
        aggregateId: ownVideo,
        payload: {
          comment_id: uuidv7(),
          video_id: ownVideo,
          author_id: follower.id,
          video_owner_id: creator.id,
          parent_id: null,
          parent_author_id: null,
          mentioned_user_ids: [fan.id],
        },
      }),
    );
    await settled();
    const types = (await api(t, 'GET', '/api/v1/notifications', { token: fan.access_token })).body.items
      .map((n: { type: string }) => n.type)
      .sort();
    assert.deepEqual(types, ['follow', 'mention', 'new_video']);
    const pushed = await firstPushTo(sub.endpoint);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      pushesTo(sub.endpoint).map((p) => p.message.type),
      ['mention'],
    );
    assert.match(pushed[0]!.message.body, /mentioned you on "Talk"/);
    assert.ok(!pushesTo(sub.endpoint).some((p) => p.message.url === `/videos/${videoId}`));
  });

  it('a subscription the push service says is gone (410) is removed', async () => {
    const fan = await registerUser(t);
    await setMembership(t, channelId, fan.id, 1);
    const sub = await subscribe(fan, newBrowser());
    push.answer(sub.endpoint, 410);
    await publishAsOwner(t, creator, { title: 'Last call' });
    await waitFor('the subscription to go', async () => {
      const { rows } = await sql`select 1 from push_subscriptions where id = ${sub.id}`.execute(
        t.app.database.db,
      );
      return rows.length === 0;
    });
  });

  it('unsubscribes by endpoint', async () => {
    const fan = await registerUser(t);
    const sub = await subscribe(fan, newBrowser());
    const other = await registerUser(t);
    assertProblem(
      await api(t, 'DELETE', '/api/v1/notifications/push/subscriptions', {
        token: other.access_token,
        body: { endpoint: sub.endpoint },
      }),
      404,
      'PUSH_SUBSCRIPTION_NOT_FOUND',
    );
    const gone = await api(t, 'DELETE', '/api/v1/notifications/push/subscriptions', {
      token: fan.access_token,
      body: { endpoint: sub.endpoint },
    });
    assert.equal(gone.status, 204);
  });

  it('refuses keys that are not a browser’s', async () => {
    const fan = await registerUser(t);
    const res = await api(t, 'POST', '/api/v1/notifications/push/subscriptions', {
      token: fan.access_token,
      body: { endpoint: `${push.origin}/push/x`, keys: { p256dh: 'AAAA', auth: 'short' } },
    });
    assertProblem(res, 400, 'VALIDATION_FAILED');
    // The right length, but not a point of the curve.
    const offCurve = Buffer.alloc(65, 1);
    offCurve[0] = 4;
    const again = await api(t, 'POST', '/api/v1/notifications/push/subscriptions', {
      token: fan.access_token,
      body: {
        endpoint: `${push.origin}/push/x`,
        keys: { p256dh: offCurve.toString('base64url'), auth: newBrowser().keys.auth },
      },
    });
    assert.deepEqual(badFields(again), ['keys.p256dh']);
  });
});

describe('push endpoints and private networks', () => {
  let strict: TestApp;
  before(async () => {
    // The default: private networks are not allowed.
    strict = await startTestApp({}, { role: 'api' });
  });
  after(async () => {
    await strict.stop();
  });

  it('refuses endpoints that are not https, or that sit in loopback, private or link-local networks', async () => {
    const u = await registerUser(strict);
    const { keys } = newBrowser();
    for (const endpoint of [
      push.endpointFor(newBrowser()),
      'https://127.0.0.1/push/1',
      'https://localhost/push/1',
      'https://10.1.2.3/push/1',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/push/1',
      'https://[fd00:ec2::254]/push/1',
      'http://push.example.com/push/1',
      'not a url',
    ]) {
      const res = await api(strict, 'POST', '/api/v1/notifications/push/subscriptions', {
        token: u.access_token,
        body: { endpoint, keys },
      });
      assertProblem(res, 422, 'PUSH_ENDPOINT_FORBIDDEN');
      assert.equal(res.body.errors?.[0]?.field, 'endpoint', endpoint);
    }
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from push_subscriptions`.execute(
      strict.app.database.db,
    );
    assert.equal(rows[0]!.n, 0);
  });
});
