// No SSRF through webhooks: endpoints on loopback, private, link-local (metadata) and other internal
// addresses are refused when registered, and checked again at each delivery, unless the operator allows
// private networks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { isForbiddenAddress } from '../src/platform/http/outbound-address.ts';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { publishVideo } from './helpers/events.ts';
import { assertProblem } from './helpers/problems.ts';
import { waitFor } from './helpers/wait.ts';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.ts';

let t: TestApp;
let receiver: WebhookReceiver;
before(async () => {
  // The default: private networks are not allowed.
  t = await startTestApp({ WEBHOOK_RETRY_BASE_MS: '100', OUTBOX_POLL_INTERVAL_MS: '200' });
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
  await t.stop();
});

describe('webhook addresses', () => {
  it('refuses endpoints on loopback, private, link-local and metadata addresses (422)', async () => {
    const owner = await registerUser(t);
    for (const url of [
      receiver.url,
      'http://localhost:8080/hook',
      'http://[::1]/hook',
      'https://10.0.0.8/hook',
      'https://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/hook',
      'http://[fd00:ec2::254]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://0.0.0.0/hook',
    ]) {
      const res = await api(t, 'POST', '/api/v1/webhooks/endpoints', {
        token: owner.access_token,
        body: { url, event_types: ['video.published'] },
      });
      assertProblem(res, 422, 'WEBHOOK_URL_FORBIDDEN');
      assert.deepEqual(
        res.body.errors.map((e: { field: string }) => e.field),
        ['url'],
        url,
      );
    }
    const listed = await api(t, 'GET', '/api/v1/webhooks/endpoints', { token: owner.access_token });
    assert.deepEqual(listed.body.items, []);
  });

  it('checks the address again when delivering', async () => {
    const owner = await registerUser(t);
    // An endpoint whose name resolved to a public address when it was registered and to loopback now:
    // made here directly in the table, as the registration would refuse it.
    const endpointId = uuidv7();
    await sql`
      insert into webhook_endpoints (id, owner_id, scope, url, event_types, secret)
      values (${endpointId}, ${owner.id}, 'user', ${receiver.url}, ${['video.published']}, 'whsec_test')
    `.execute(t.app.database.db);
    await publishVideo(t, owner.id);
    const res = await waitFor('the refused attempt', async () => {
      const r = await api(t, 'GET', `/api/v1/webhooks/endpoints/${endpointId}/deliveries`, {
        token: owner.access_token,
      });
      return r.body.items[0]?.attempts.length ? r : undefined;
    });
    const attempt = res.body.items[0].attempts[0];
    assert.equal(attempt.response_status, null);
    assert.match(attempt.error, /private, loopback or link-local/);
    assert.equal(receiver.received.length, 0, 'nothing reached the loopback receiver');
  });

  it('classifies addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::',
      '::1',
      'fc00::1',
      'fd00:ec2::254',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
    ]) {
      assert.equal(isForbiddenAddress(ip), true, ip);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(isForbiddenAddress(ip), false, ip);
    }
  });
});
