// Two app instances on one database: a live stream open on one node hears of notifications stored by
// another (the relay, the fan-out jobs and the publication all happen on the first), through the
// NotifyHub, within a second of the publication.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { followAggregateId, userFollowed } from '../src/modules/social/index.ts';
import { registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { channelOf, emitEvent, publishAsOwner, setMembership } from './helpers/community.ts';
import { openEvents } from './helpers/sse.ts';

describe('the live stream across nodes', () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    const env = {
      OUTBOX_POLL_INTERVAL_MS: '100',
      WORKER_POLL_INTERVAL_MS: '100',
      NOTIFICATIONS_FANOUT_BATCH: '2',
    };
    // `a` relays events and runs jobs; `b` only serves HTTP, and with it the stream.
    a = await startTestApp(env, { role: 'all' });
    b = await startTestApp(env, { role: 'api' }, { database: a.db });
  });
  after(async () => {
    await b.stop({ keepDatabase: true });
    await a.stop();
  });

  it('a subscriber connected to the second node hears of a new video within a second', async (ctx) => {
    const creator = await registerUser(a);
    const channelId = await channelOf(a, creator);
    const listener = await registerUser(a);
    // Others in the channel put the listener in a later slice than the first.
    for (let i = 0; i < 4; i++) await setMembership(a, channelId, (await registerUser(a)).id, 1);
    await setMembership(a, channelId, listener.id, 1);

    const stream = await openEvents(`${b.url}/api/v1/notifications/stream`, listener.access_token);
    try {
      await stream.until('unread');
      const started = performance.now();
      const videoId = await publishAsOwner(a, creator, { title: 'Across' });
      const arrived = await stream.until('notification', 1000);
      const elapsed = performance.now() - started;
      assert.equal(arrived.data.type, 'new_video');
      assert.equal(arrived.data.video.id, videoId);
      assert.ok(elapsed <= 1000, `took ${Math.round(elapsed)} ms`);
      ctx.diagnostic(`heard on the second node ${Math.round(elapsed)} ms after the publication`);

      // One notification by one event's subscriber, too.
      const follower = await registerUser(a);
      await emitEvent(
        a,
        userFollowed.create({
          aggregateId: followAggregateId(follower.id, listener.id),
          payload: { follower_id: follower.id, followee_id: listener.id },
        }),
      );
      await stream.until('notification', 2000);
      const deadline = Date.now() + 2000;
      while (stream.events.filter((e) => e.event === 'notification').length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      const got = stream.events.filter((e) => e.event === 'notification').map((e) => e.data.type);
      assert.deepEqual(got, ['new_video', 'follow']);
    } finally {
      stream.close();
    }
  });
});
