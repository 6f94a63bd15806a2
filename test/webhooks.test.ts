// Outbound webhooks through HTTP against a local receiver: signed deliveries of catalog events, retries
// after a failed answer, the delivery log, redelivery, secret rotation, and who hears which events.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { videoUpdated } from '../src/modules/videos/index.ts';
import { verifySignature } from '../src/modules/webhooks/index.ts';
import { nextAttemptAt, retryDelayMs } from '../src/modules/webhooks/retry-schedule.ts';
import { emit } from '../src/platform/events/emit.ts';
import { startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { publishVideo } from './helpers/events.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { uploadVideo } from './helpers/upload.ts';
import { waitFor } from './helpers/wait.ts';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.ts';

let t: TestApp;
let receiver: WebhookReceiver;
let adminToken: string;
before(async () => {
  // With a worker: the last test waits for an uploaded video to be processed and published.
  const started = await startAdminApp({
    role: 'all',
    env: {
      LADDER_RUNGS: '240',
      ENCODE_PRESET: 'ultrafast',
      WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
      OUTBOX_POLL_INTERVAL_MS: '200',
    },
  });
  t = started.t;
  adminToken = started.admin.access_token;
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
  await t.stop();
});

const publish = (ownerId: string, videoId?: string) => publishVideo(t, ownerId, videoId);

async function createEndpoint(token: string, body: Record<string, unknown>) {
  const res = await api(t, 'POST', '/api/v1/webhooks/endpoints', { token, body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; secret: string };
}

const hooksFor = (eventId: string) => receiver.received.filter((r) => r.json.id === eventId);
/** Waits until `count` copies of the event reached the receiver. */
const hooksArrived = (eventId: string, count = 1) =>
  waitFor(`${count} deliveries of ${eventId}`, () => {
    const got = hooksFor(eventId);
    return got.length >= count ? got : undefined;
  });
const deliveriesOf = async (token: string, endpointId: string) => {
  const res = await api(t, 'GET', `/api/v1/webhooks/endpoints/${endpointId}/deliveries`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as Array<{
    id: string;
    event_id: string;
    status: string;
    attempt_count: number;
    attempts: Array<{ response_status: number | null; manual: boolean; response_snippet: string | null }>;
  }>;
};

describe('webhooks', () => {
  it('delivers a video event signed with the secret shown at creation, and logs the attempt', async () => {
    const owner = await registerUser(t);
    const endpoint = await createEndpoint(owner.access_token, {
      url: receiver.url,
      event_types: ['video.published'],
      description: 'my integration',
    });
    assert.match(endpoint.secret, /^whsec_[\w-]{43}$/);
    const shown = await api(t, 'GET', `/api/v1/webhooks/endpoints/${endpoint.id}`, {
      token: owner.access_token,
    });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.secret, undefined, 'the secret is shown only once');
    assert.deepEqual(shown.body.event_types, ['video.published']);

    const videoId = uuidv7();
    const eventId = await publish(owner.id, videoId);
    const [hook] = await hooksArrived(eventId);
    assert.ok(hook);
    assert.equal(hook.headers['content-type'], 'application/json');
    assert.equal(hook.headers['vireo-event-id'], eventId);
    assert.equal(hook.headers['vireo-event-type'], 'video.published');
    assert.deepEqual(Object.keys(hook.json), ['id', 'type', 'created_at', 'data']);
    assert.equal(hook.json.type, 'video.published');
    assert.equal(hook.json.data.video_id, videoId);
    assert.equal(hook.json.data.owner_id, owner.id);
    const signature = String(hook.headers['vireo-signature']);
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    const t0 = Number(/t=(\d+)/.exec(signature)![1]);
    assert.ok(Math.abs(t0 - Date.now() / 1000) < 60, 'the timestamp is the time of sending');
    assert.ok(verifySignature(signature, endpoint.secret, hook.body), 'signed with the secret');
    assert.ok(!verifySignature(signature, 'whsec_another', hook.body));
    assert.ok(!verifySignature(signature, endpoint.secret, `${hook.body} `), 'the body is signed');

    const [delivery] = await waitFor('the delivery log', async () => {
      const items = await deliveriesOf(owner.access_token, endpoint.id);
      return items[0]?.status === 'delivered' ? items : undefined;
    });
    assert.equal(delivery!.event_id, eventId);
    assert.equal(delivery!.attempt_count, 1);
    assert.equal(delivery!.attempts[0]!.response_status, 200);
    assert.equal(delivery!.attempts[0]!.response_snippet, 'thanks');
  });

  it('retries after a 500 and a redirect (not followed), and logs every attempt', async () => {
    const owner = await registerUser(t);
    const endpoint = await createEndpoint(owner.access_token, {
      url: receiver.url,
      event_types: ['video.published'],
    });
    receiver.answer(500, 302);
    const eventId = await publish(owner.id);
    const [first, second] = await hooksArrived(eventId, 3);
    assert.equal(first!.body, second!.body, 'the same event is sent again');
    assert.ok(!receiver.received.some((r) => r.url === '/elsewhere'), 'redirects are not followed');
    const [delivery] = await waitFor('the delivery log', async () => {
      const items = await deliveriesOf(owner.access_token, endpoint.id);
      return items[0]?.status === 'delivered' ? items : undefined;
    });
    assert.deepEqual(
      delivery!.attempts.map((a) => a.response_status),
      [500, 302, 200],
    );
    assert.equal(delivery!.attempt_count, 3);
    assert.equal(delivery!.attempts[0]!.response_snippet, 'not now');
  });

  it('gives a user only events about their own videos; instance endpoints hear every video', async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    const bobs = await createEndpoint(bob.access_token, {
      url: `${receiver.url}?who=bob`,
      event_types: ['video.published', 'video.updated'],
    });
    const instance = await createEndpoint(adminToken, {
      url: `${receiver.url}?who=instance`,
      event_types: ['video.published'],
      scope: 'instance',
    });
    const alicesEvent = await publish(alice.id);
    const bobsEvent = await publish(bob.id);
    await waitFor('the instance deliveries', () =>
      [alicesEvent, bobsEvent].every((id) => hooksFor(id).some((h) => h.url.endsWith('who=instance'))),
    );
    await waitFor(
      "bob's own event",
      async () => (await deliveriesOf(bob.access_token, bobs.id)).length === 1,
    );
    const bobsLog = await deliveriesOf(bob.access_token, bobs.id);
    assert.deepEqual(
      bobsLog.map((d) => d.event_id),
      [bobsEvent],
      "bob's endpoint does not hear about alice's video",
    );
    const instanceLog = await deliveriesOf(adminToken, instance.id);
    assert.deepEqual(new Set(instanceLog.map((d) => d.event_id)), new Set([alicesEvent, bobsEvent]));
    // An event type the endpoint did not ask for is not delivered.
    const updated = await t.app.database.db.transaction().execute((tx) =>
      emit(
        tx,
        videoUpdated.create({
          aggregateId: uuidv7(),
          payload: { video_id: uuidv7(), owner_id: alice.id, fields: ['title'] },
        }),
      ),
    );
    const bobsUpdate = await t.app.database.db.transaction().execute((tx) =>
      emit(
        tx,
        videoUpdated.create({
          aggregateId: uuidv7(),
          payload: { video_id: uuidv7(), owner_id: bob.id, fields: ['title'] },
        }),
      ),
    );
    await waitFor('the update delivered to bob', () => hooksFor(bobsUpdate).length === 1);
    assert.equal(hooksFor(updated).length, 0);
    assert.equal(
      (await deliveriesOf(adminToken, instance.id)).length,
      2,
      'instance endpoint took only video.published',
    );

    // Instance endpoints are for administrators; others' endpoints are not found.
    assertProblem(
      await api(t, 'POST', '/api/v1/webhooks/endpoints', {
        token: alice.access_token,
        body: { url: receiver.url, event_types: ['video.published'], scope: 'instance' },
      }),
      403,
      'ADMIN_REQUIRED',
    );
    for (const [method, path] of [
      ['GET', `/api/v1/webhooks/endpoints/${bobs.id}`],
      ['DELETE', `/api/v1/webhooks/endpoints/${bobs.id}`],
      ['POST', `/api/v1/webhooks/endpoints/${bobs.id}/rotate-secret`],
      ['GET', `/api/v1/webhooks/endpoints/${bobs.id}/deliveries`],
      ['GET', `/api/v1/webhooks/endpoints/${instance.id}`],
    ] as const) {
      assertProblem(
        await api(t, method, path, { token: alice.access_token }),
        404,
        'WEBHOOK_ENDPOINT_NOT_FOUND',
      );
    }
    assertProblem(
      await api(t, 'POST', `/api/v1/webhooks/deliveries/${bobsLog[0]!.id}/redeliver`, {
        token: alice.access_token,
      }),
      404,
      'WEBHOOK_DELIVERY_NOT_FOUND',
    );
    const listed = await api(t, 'GET', '/api/v1/webhooks/endpoints', { token: alice.access_token });
    assert.deepEqual(listed.body.items, []);
    // Other tests count the copies of their events: the instance endpoint would add one.
    const gone = await api(t, 'DELETE', `/api/v1/webhooks/endpoints/${instance.id}`, { token: adminToken });
    assert.equal(gone.status, 204);
  });

  it('sends nothing to the endpoints of a hidden account, and sends again once it is restored', async () => {
    const carol = await registerUser(t);
    const carols = await createEndpoint(carol.access_token, {
      url: `${receiver.url}?who=carol`,
      event_types: ['video.published'],
    });
    // Made in the same step as any of carol's: once the instance endpoint has an event, carol's would too.
    const barrier = await createEndpoint(adminToken, {
      url: `${receiver.url}?who=barrier`,
      event_types: ['video.published'],
      scope: 'instance',
    });
    const carolsDeliveries = async () => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries
        where endpoint_id = ${carols.id}`.execute(t.app.database.db);
      return rows[0]!.n;
    };
    try {
      const hide = await api(t, 'PUT', `/api/v1/admin/users/${carol.id}/hide`, {
        token: adminToken,
        body: {},
      });
      assert.equal(hide.status, 200, JSON.stringify(hide.body));
      const whileHidden = await publish(carol.id);
      await waitFor('the barrier delivery', () =>
        hooksFor(whileHidden).some((h) => h.url.endsWith('who=barrier')),
      );
      assert.equal(await carolsDeliveries(), 0);

      const restore = await api(t, 'PUT', `/api/v1/admin/users/${carol.id}/restore`, {
        token: adminToken,
        body: {},
      });
      assert.equal(restore.status, 200, JSON.stringify(restore.body));
      const afterRestore = await publish(carol.id);
      await waitFor("carol's delivery", () =>
        hooksFor(afterRestore).some((h) => h.url.endsWith('who=carol')),
      );
    } finally {
      // Other tests count what instance endpoints receive.
      await api(t, 'DELETE', `/api/v1/webhooks/endpoints/${barrier.id}`, { token: adminToken });
    }
  });

  it('rotates the secret: the new one verifies, the old one still does for a while', async () => {
    const owner = await registerUser(t);
    const endpoint = await createEndpoint(owner.access_token, {
      url: receiver.url,
      event_types: ['video.published'],
    });
    const rotated = await api(t, 'POST', `/api/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`, {
      token: owner.access_token,
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.notEqual(rotated.body.secret, endpoint.secret);
    assert.ok(Date.parse(rotated.body.previous_secret_expires_at) > Date.now() + 23 * 3600_000);
    const eventId = await publish(owner.id);
    const [hook] = await hooksArrived(eventId);
    const signature = String(hook!.headers['vireo-signature']);
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    assert.ok(verifySignature(signature, rotated.body.secret, hook!.body), 'the new secret verifies');
    assert.ok(verifySignature(signature, endpoint.secret, hook!.body), 'the old secret verifies, for now');
  });

  it('redelivers on request, and logs the manual attempt', async () => {
    const owner = await registerUser(t);
    const endpoint = await createEndpoint(owner.access_token, {
      url: receiver.url,
      event_types: ['video.published'],
    });
    const eventId = await publish(owner.id);
    const [delivery] = await waitFor('the delivery', async () => {
      const items = await deliveriesOf(owner.access_token, endpoint.id);
      return items[0]?.status === 'delivered' ? items : undefined;
    });
    const res = await api(t, 'POST', `/api/v1/webhooks/deliveries/${delivery!.id}/redeliver`, {
      token: owner.access_token,
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await waitFor('the second copy', () => hooksFor(eventId).length === 2);
    const [again] = await waitFor('the manual attempt logged', async () => {
      const items = await deliveriesOf(owner.access_token, endpoint.id);
      return items[0]?.attempts.length === 2 ? items : undefined;
    });
    assert.deepEqual(
      again!.attempts.map((a) => a.manual),
      [false, true],
    );
  });

  it('delivers video.published when an uploaded video becomes playable', async () => {
    const owner = await registerUser(t);
    const endpoint = await createEndpoint(owner.access_token, {
      url: `${receiver.url}?from=upload`,
      event_types: ['video.published'],
    });
    const dir = await tempDir();
    const clip = await makeClip(dir, 'hook', { seconds: 1, audio: false });
    const videoId = await uploadVideo(t, owner.access_token, clip, { title: 'Hooked' });
    await fs.rm(dir, { recursive: true, force: true });
    const hook = await waitFor(
      'video.published of the upload',
      () => receiver.received.find((r) => r.url.endsWith('from=upload')),
      120_000,
    );
    assert.equal(hook.json.type, 'video.published');
    assert.equal(hook.json.data.video_id, videoId);
    assert.equal(hook.json.data.title, 'Hooked');
    assert.ok(verifySignature(String(hook.headers['vireo-signature']), endpoint.secret, hook.body));
  });

  it('retries after 30 s, 2 min, 10 min, 1 h… and gives up 24 h after the event', () => {
    const base = 30_000;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 20].map((n) => retryDelayMs(n, base) / 1000),
      [30, 120, 600, 3600, 7200, 14_400, 14_400, 14_400],
    );
    const now = new Date('2026-01-01T00:00:00Z');
    const until = new Date(now.getTime() + 86_400_000);
    assert.deepEqual(nextAttemptAt(1, base, until, now), new Date(now.getTime() + 30_000));
    const late = new Date(until.getTime() - 60_000);
    assert.equal(nextAttemptAt(2, base, until, late), null, 'no attempt after the 24 h');
  });

  it('validates endpoints: event types, URL; and edits and removes them', async () => {
    const owner = await registerUser(t);
    const token = owner.access_token;
    const post = (body: unknown) => api(t, 'POST', '/api/v1/webhooks/endpoints', { token, body });
    assert.deepEqual(badFields(await post({ url: receiver.url, event_types: [] })), ['event_types']);
    assert.deepEqual(badFields(await post({ url: receiver.url })), ['event_types']);
    assert.deepEqual(badFields(await post({ url: receiver.url, event_types: ['video.exploded'] })), [
      'event_types.0',
    ]);
    assert.deepEqual(
      badFields(await post({ url: receiver.url, event_types: ['video.ready', 'video.ready'] })),
      ['event_types'],
    );
    assert.deepEqual(badFields(await post({ url: 'ftp://example.com/x', event_types: ['video.ready'] })), [
      'url',
    ]);
    const types = await api(t, 'GET', '/api/v1/webhooks/event-types', { token });
    assert.ok(types.body.items.includes('video.published') && types.body.items.includes('video.deleted'));
    const endpoint = await createEndpoint(token, { url: receiver.url, event_types: ['video.ready'] });
    const put = await api(t, 'PUT', `/api/v1/webhooks/endpoints/${endpoint.id}`, {
      token,
      body: { event_types: ['video.ready', 'video.failed'], enabled: false },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.event_types, ['video.ready', 'video.failed']);
    assert.equal(put.body.enabled, false);
    const del = await api(t, 'DELETE', `/api/v1/webhooks/endpoints/${endpoint.id}`, { token });
    assert.equal(del.status, 204);
    assertProblem(
      await api(t, 'GET', `/api/v1/webhooks/endpoints/${endpoint.id}`, { token }),
      404,
      'WEBHOOK_ENDPOINT_NOT_FOUND',
    );
  });
});
