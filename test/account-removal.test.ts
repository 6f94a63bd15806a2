// People hide or delete their own account: every session ends and their videos disappear for everyone
// else. A hidden account comes back when an administrator restores it; a deleted one is gone for good.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN,
  eventsOf,
  makeVideo,
  type SignedIn,
  startAdminApp,
  storedObjectsOf,
} from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { runJobs } from './helpers/videos.ts';

let t: TestApp;
let admin: SignedIn;
before(async () => {
  ({ t, admin } = await startAdminApp());
});
after(() => t.stop());

const me = (token: string) => api(t, 'GET', '/api/v1/users/me', { token });
const login = (u: { username: string; password: string }) =>
  api(t, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } });
const hideMine = (token?: string) => api(t, 'PUT', '/api/v1/user/account/hide', { token });
const deleteMine = (token: string | undefined, body?: unknown) =>
  api(t, 'DELETE', '/api/v1/user/account', { token, body });
const watch = (id: string, token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });
const statusEvents = async (userId: string) =>
  (await eventsOf(t, userId)).filter((e) => e.type === 'user.status_changed').map((e) => e.payload.status);

describe('PUT /api/v1/user/account/hide', () => {
  it('ends every session and hides the videos; an administrator restores the account', async () => {
    const u = await registerUser(t);
    const elsewhere = await login(u);
    const viewer = await registerUser(t);
    const video = await makeVideo(t, u);
    const { channel_id } = (await me(u.access_token)).body;
    const channel = () => api(t, 'GET', `/api/v1/channels/${channel_id}`, { token: viewer.access_token });
    assert.equal((await channel()).status, 200);

    const res = await hideMine(u.access_token);
    assert.equal(res.status, 204, JSON.stringify(res.body));
    for (const token of [u.access_token, elsewhere.body.access_token]) {
      assertProblem(await me(token), 403, 'ACCOUNT_HIDDEN');
    }
    assertProblem(
      await api(t, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh_token } }),
      403,
      'ACCOUNT_HIDDEN',
    );
    assertProblem(await login(u), 403, 'ACCOUNT_HIDDEN');
    await eventsDelivered(t);
    assertProblem(await watch(video), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await watch(video, viewer.access_token), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await channel(), 404, 'CHANNEL_NOT_FOUND');
    assert.deepEqual(await statusEvents(u.id), ['hidden']);

    const restored = await api(t, 'PUT', `/api/v1/admin/users/${u.id}/restore`, {
      token: admin.access_token,
    });
    assert.equal(restored.body.status, 'active');
    await eventsDelivered(t);
    assert.equal((await watch(video, viewer.access_token)).status, 200);
    assert.equal((await channel()).status, 200);
    const back = await login(u);
    assert.equal(back.status, 200);
    assert.equal((await me(back.body.access_token)).status, 200);
    // The sessions from before stay ended.
    assertProblem(await me(u.access_token), 401, 'SESSION_REVOKED');
    assertProblem(await me(elsewhere.body.access_token), 401, 'SESSION_REVOKED');
  });

  it('needs a signed-in user', async () => {
    assertProblem(await hideMine(), 401, 'TOKEN_MISSING');
  });
});

describe('DELETE /api/v1/user/account', () => {
  it('needs the current password', async () => {
    const u = await registerUser(t);
    const wrong = await deleteMine(u.access_token, { password: 'not my password' });
    assertProblem(wrong, 401, 'INVALID_CREDENTIALS');
    assert.deepEqual(
      wrong.body.errors.map((e: { field: string }) => e.field),
      ['password'],
    );
    assert.deepEqual(badFields(await deleteMine(u.access_token, {})), ['password']);
    assert.deepEqual(badFields(await deleteMine(u.access_token)), ['body']);
    assert.equal((await me(u.access_token)).body.status, 'active');
    assert.deepEqual(await statusEvents(u.id), []);
    assertProblem(await deleteMine(undefined, { password: u.password }), 401, 'TOKEN_MISSING');
  });

  it('deletes for good: sessions end, videos disappear, no one can restore it', async () => {
    const u = await registerUser(t);
    const video = await makeVideo(t, u);
    const res = await deleteMine(u.access_token, { password: u.password });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assertProblem(await me(u.access_token), 403, 'ACCOUNT_HIDDEN');
    assertProblem(await login(u), 403, 'ACCOUNT_HIDDEN');
    await eventsDelivered(t);
    // Deleted with the account, even for administrators.
    assertProblem(await watch(video), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await watch(video, admin.access_token), 404, 'VIDEO_NOT_FOUND');
    assert.ok((await eventsOf(t, video)).some((e) => e.type === 'video.deleted'));
    await runJobs(t, 'videos.remove_media');
    assert.deepEqual(await storedObjectsOf(t, video), [], 'its media are removed');
    assert.deepEqual(await statusEvents(u.id), ['deleted']);
    const account = await api(t, 'GET', `/api/v1/admin/users/${u.id}`, { token: admin.access_token });
    assert.equal(account.body.status, 'deleted');
    assertProblem(
      await api(t, 'PUT', `/api/v1/admin/users/${u.id}/restore`, { token: admin.access_token }),
      409,
      'ACCOUNT_DELETED',
    );
  });

  it('is out of reach of a hidden account, whose sessions ended: deleting it is then for an administrator', async () => {
    const u = await registerUser(t);
    await hideMine(u.access_token);
    assertProblem(await deleteMine(u.access_token, { password: u.password }), 403, 'ACCOUNT_HIDDEN');
  });
});

describe('an administrator', () => {
  it('cannot hide or delete their own account here either: another administrator demotes them first', async () => {
    assertProblem(await hideMine(admin.access_token), 403, 'PERMISSION_DENIED');
    assertProblem(
      await deleteMine(admin.access_token, { password: ADMIN.password }),
      403,
      'CANNOT_DELETE_SELF',
    );
    assert.equal((await me(admin.access_token)).body.status, 'active');
  });
});
