// Administrators manage accounts: find them by status, role or a piece of their name, create, change,
// hide, restore and delete them; what an account owns follows its status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { eventsOf, makeVideo, type SignedIn, startAdminApp, storedObjectsOf } from './helpers/admin.ts';
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

const as = (token: string | undefined) => ({
  get: (path: string) => api(t, 'GET', `/api/v1/admin${path}`, { token }),
  post: (path: string, body: unknown) => api(t, 'POST', `/api/v1/admin${path}`, { token, body }),
  put: (path: string, body?: unknown) => api(t, 'PUT', `/api/v1/admin${path}`, { token, body }),
  delete: (path: string, body?: unknown) => api(t, 'DELETE', `/api/v1/admin${path}`, { token, body }),
});
const chief = () => as(admin.access_token);
const login = (username: string, password: string) =>
  api(t, 'POST', '/api/v1/auth/login', { body: { username, password } });
/** The account's session no longer works and it cannot sign in again. */
async function assertShutOut(user: { access_token: string; username: string; password: string }) {
  assertProblem(await api(t, 'GET', '/api/v1/users/me', { token: user.access_token }), 403, 'ACCOUNT_HIDDEN');
  assertProblem(await login(user.username, user.password), 403, 'ACCOUNT_HIDDEN');
}
const idsOf = (res: { body: { items: { id: string }[] } }) => res.body.items.map((u) => u.id);

describe('GET /api/v1/admin/users filters', () => {
  it('narrow the list by status, hidden, role and text, alone and together', async () => {
    const tag = `zq${Math.floor(Math.random() * 1e6)}`;
    const plain = await registerUser(t, { username: `${tag}_plain` });
    const named = await registerUser(t, { display_name: `Ana ${tag.toUpperCase()} Lima` });
    const mailed = await registerUser(t, { email: `${tag}@mail.example.test` });
    const boss = await registerUser(t, { username: `${tag}_boss` });
    const other = await registerUser(t);
    assert.equal((await chief().put(`/users/${boss.id}`, { role: 'admin' })).status, 200);
    assert.equal((await chief().put(`/users/${plain.id}/hide`)).status, 200);

    const list = async (query: string) => {
      const res = await chief().get(`/users?limit=100&${query}`);
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      return idsOf(res);
    };
    // Text: username, display name or email, any case; newest first.
    assert.deepEqual(await list(`q=${tag}`), [boss.id, mailed.id, named.id, plain.id]);
    assert.deepEqual(await list(`q=${tag.toUpperCase()}`), [boss.id, mailed.id, named.id, plain.id]);
    assert.deepEqual(await list(`q=ana%20${tag}`), [named.id]);
    assert.deepEqual(await list(`q=${tag}%40mail`), [mailed.id]);
    // Wildcards of LIKE are searched for as themselves.
    assert.deepEqual(await list(`q=${tag}%25`), []);
    assert.deepEqual(await list(`q=${tag}_b`), [boss.id]);
    const underscored = await list('q=_');
    assert.ok(underscored.includes(plain.id) && underscored.includes(boss.id));
    assert.ok(!underscored.includes(other.id) && !underscored.includes(named.id), '_ is no wildcard');
    assert.ok(!(await list('q=%25')).includes(other.id), '% is no wildcard');

    assert.deepEqual(await list(`q=${tag}&role=admin`), [boss.id]);
    assert.deepEqual(await list(`q=${tag}&role=user`), [mailed.id, named.id, plain.id]);
    assert.deepEqual(await list(`q=${tag}&status=hidden`), [plain.id]);
    assert.deepEqual(await list(`q=${tag}&hidden=true`), [plain.id]);
    assert.deepEqual(await list(`q=${tag}&hidden=false`), [boss.id, mailed.id, named.id]);
    assert.deepEqual(await list(`q=${tag}&status=active&role=user`), [mailed.id, named.id]);
    const admins = await list('role=admin');
    assert.ok(admins.includes(admin.id) && admins.includes(boss.id) && !admins.includes(other.id));

    for (const [query, field] of [
      ['role=owner', 'role'],
      ['status=banned', 'status'],
      ['hidden=yes', 'hidden'],
      ['q=', 'q'],
      [`q=${'x'.repeat(101)}`, 'q'],
      ['status=hidden&hidden=true', 'hidden'],
    ]) {
      assert.deepEqual(badFields(await chief().get(`/users?${query}`)), [field], query);
    }
  });

  it('page through a filtered list without gaps or repeats', async () => {
    const tag = `pg${Math.floor(Math.random() * 1e6)}`;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.unshift((await registerUser(t, { username: `${tag}_${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await chief().get(`/users?limit=2&q=${tag}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...idsOf(res));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(seen, made);
    assert.equal(pages, 3);
  });
});

describe('one account', () => {
  it('GET answers any account, hidden ones too; 404 for an unknown id', async () => {
    const u = await registerUser(t);
    await chief().put(`/users/${u.id}/hide`, { reason: 'spam' });
    const res = await chief().get(`/users/${u.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.username, u.username);
    assert.equal(res.body.status, 'hidden');
    assert.equal(res.body.password_hash, undefined);
    assertProblem(await chief().get(`/users/${uuidv7()}`), 404, 'USER_NOT_FOUND');
    assert.deepEqual(badFields(await chief().get('/users/nope')), ['id']);
  });

  it('POST creates an account that signs in, with the role given', async () => {
    const input = { username: `made${Date.now()}`, email: `made${Date.now()}@example.test` };
    const res = await chief().post('/users', {
      ...input,
      password: 'a fine long password',
      display_name: 'Made Here',
      role: 'admin',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.role, 'admin');
    assert.equal(res.body.display_name, 'Made Here');
    assert.equal(res.body.status, 'active');
    const signedIn = await login(input.username, 'a fine long password');
    assert.equal(signedIn.status, 200);
    assert.equal(signedIn.body.user.role, 'admin');
    // Made as registering makes an account: with its channel.
    const self = await api(t, 'GET', '/api/v1/users/me', { token: signedIn.body.access_token });
    assert.equal(typeof self.body.channel_id, 'string');
    assert.equal((await api(t, 'GET', `/api/v1/channels/${self.body.channel_id}`)).status, 200);

    const plain = await chief().post('/users', {
      username: `${input.username}b`,
      email: `b${input.email}`,
      password: 'a fine long password',
    });
    assert.equal(plain.body.role, 'user', 'role defaults to user');

    assertProblem(
      await chief().post('/users', { ...input, email: 'x@example.test', password: 'a fine long password' }),
      409,
      'USERNAME_TAKEN',
    );
    assertProblem(
      await chief().post('/users', {
        username: 'other_name',
        email: input.email.toUpperCase(),
        password: 'a fine long password',
      }),
      409,
      'EMAIL_TAKEN',
    );
    assert.deepEqual(
      badFields(
        await chief().post('/users', { username: 'x', email: 'nope', password: 'short', role: 'god' }),
      ),
      ['email', 'password', 'role', 'username'],
    );
  });

  it('PUT changes display name, email and role; EMAIL_TAKEN for an email in use', async () => {
    const u = await registerUser(t);
    const other = await registerUser(t);
    const res = await chief().put(`/users/${u.id}`, {
      display_name: 'Renamed',
      email: `new.${u.email}`,
      role: 'admin',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.display_name, 'Renamed');
    assert.equal(res.body.email, `new.${u.email}`);
    assert.equal(res.body.role, 'admin');
    // The role holds from the next request of sessions opened before.
    assert.equal((await as(u.access_token).get('/users')).status, 200);
    assert.equal((await chief().put(`/users/${u.id}`, { role: 'user' })).status, 200);
    assertProblem(await as(u.access_token).get('/users'), 403, 'ADMIN_REQUIRED');

    assertProblem(
      await chief().put(`/users/${u.id}`, { email: other.email.toUpperCase() }),
      409,
      'EMAIL_TAKEN',
    );
    assert.equal((await chief().get(`/users/${u.id}`)).body.email, `new.${u.email}`);
    assert.deepEqual(badFields(await chief().put(`/users/${u.id}`, {})), ['display_name']);
    assert.deepEqual(badFields(await chief().put(`/users/${u.id}`, { email: 'nope' })), ['email']);
    assertProblem(await chief().put(`/users/${uuidv7()}`, { display_name: 'X' }), 404, 'USER_NOT_FOUND');
  });
});

describe('hide, restore, delete', () => {
  it('hiding ends the sessions and hides the channel and videos from others; restoring brings them back', async () => {
    const owner = await registerUser(t);
    const viewer = await registerUser(t);
    const video = await makeVideo(t, owner);
    const watch = (token?: string) => api(t, 'GET', `/api/v1/videos/${video}`, { token });
    assert.equal((await watch(viewer.access_token)).status, 200);
    const { channel_id } = (await api(t, 'GET', '/api/v1/users/me', { token: owner.access_token })).body;
    const channel = (token?: string) => api(t, 'GET', `/api/v1/channels/${channel_id}`, { token });
    assert.equal((await channel()).status, 200);

    const hidden = await chief().put(`/users/${owner.id}/hide`, { reason: 'impersonation' });
    assert.equal(hidden.status, 200, JSON.stringify(hidden.body));
    assert.equal(hidden.body.status, 'hidden');
    await assertShutOut(owner);
    await eventsDelivered(t);
    assertProblem(await watch(), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await watch(viewer.access_token), 404, 'VIDEO_NOT_FOUND');
    assert.equal((await watch(admin.access_token)).status, 200, 'administrators still see it');
    assertProblem(await channel(), 404, 'CHANNEL_NOT_FOUND');
    assertProblem(await channel(viewer.access_token), 404, 'CHANNEL_NOT_FOUND');
    assert.equal((await channel(admin.access_token)).status, 200);

    const restored = await chief().put(`/users/${owner.id}/restore`);
    assert.equal(restored.status, 200);
    assert.equal(restored.body.status, 'active');
    await eventsDelivered(t);
    assert.equal((await watch()).status, 200);
    assert.equal((await watch(viewer.access_token)).status, 200);
    assert.equal((await channel(viewer.access_token)).status, 200);
    assert.equal((await login(owner.username, owner.password)).status, 200);

    const events = (await eventsOf(t, owner.id)).filter((e) => e.type === 'user.status_changed');
    assert.deepEqual(
      events.map((e) => e.payload.status),
      ['hidden', 'active'],
    );
    // Hiding a hidden account again changes nothing and announces nothing.
    await chief().put(`/users/${owner.id}/hide`);
    await chief().put(`/users/${owner.id}/hide`);
    assert.equal((await eventsOf(t, owner.id)).filter((e) => e.type === 'user.status_changed').length, 3);
  });

  it('deleting is for good: sessions end, videos disappear, the account cannot be restored or changed', async () => {
    const owner = await registerUser(t);
    const video = await makeVideo(t, owner);
    assert.ok((await storedObjectsOf(t, video)).length > 0);
    const { channel_id } = (await api(t, 'GET', '/api/v1/users/me', { token: owner.access_token })).body;
    const res = await chief().delete(`/users/${owner.id}`, { reason: 'asked by its owner' });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assert.equal((await chief().get(`/users/${owner.id}`)).body.status, 'deleted');
    await assertShutOut(owner);
    await eventsDelivered(t);
    // The videos module deletes the account's videos (their stored objects by a job) when it hears of it.
    assertProblem(await api(t, 'GET', `/api/v1/videos/${video}`), 404, 'VIDEO_NOT_FOUND');
    assertProblem(
      await api(t, 'GET', `/api/v1/videos/${video}`, { token: admin.access_token }),
      404,
      'VIDEO_NOT_FOUND',
    );
    assert.ok((await eventsOf(t, video)).some((e) => e.type === 'video.deleted'));
    await runJobs(t, 'videos.remove_media');
    assert.deepEqual(await storedObjectsOf(t, video), []);
    assertProblem(await api(t, 'GET', `/api/v1/channels/${channel_id}`), 404, 'CHANNEL_NOT_FOUND');

    assertProblem(await chief().put(`/users/${owner.id}/restore`), 409, 'ACCOUNT_DELETED');
    assertProblem(await chief().put(`/users/${owner.id}/hide`), 409, 'ACCOUNT_DELETED');
    assertProblem(await chief().put(`/users/${owner.id}`, { display_name: 'Back' }), 409, 'ACCOUNT_DELETED');
    const deleted = (await eventsOf(t, owner.id)).filter((e) => e.type === 'user.status_changed');
    assert.deepEqual(
      deleted.map((e) => e.payload),
      [{ user_id: owner.id, status: 'deleted' }],
    );
    assertProblem(await chief().delete(`/users/${uuidv7()}`), 404, 'USER_NOT_FOUND');
  });

  it('an administrator cannot delete, hide or demote themself', async () => {
    assertProblem(await chief().delete(`/users/${admin.id}`), 403, 'CANNOT_DELETE_SELF');
    assertProblem(await chief().put(`/users/${admin.id}/hide`), 403, 'PERMISSION_DENIED');
    assertProblem(await chief().put(`/users/${admin.id}`, { role: 'user' }), 403, 'PERMISSION_DENIED');
    const self = await chief().get(`/users/${admin.id}`);
    assert.equal(self.body.status, 'active');
    assert.equal(self.body.role, 'admin');
    // Another administrator may.
    const other = await chief().post('/users', {
      username: `second${Date.now()}`,
      email: `second${Date.now()}@example.test`,
      password: 'a fine long password',
      role: 'admin',
    });
    const second = await login(other.body.username, 'a fine long password');
    const victim = await registerUser(t);
    assert.equal((await as(second.body.access_token).delete(`/users/${victim.id}`)).status, 204);
    // Editing oneself otherwise is fine.
    assert.equal((await chief().put(`/users/${admin.id}`, { display_name: 'The Chief' })).status, 200);
  });

  it('the reason is optional but never empty', async () => {
    const u = await registerUser(t);
    assert.deepEqual(badFields(await chief().put(`/users/${u.id}/hide`, { reason: '  ' })), ['reason']);
    assert.deepEqual(badFields(await chief().put(`/users/${u.id}/hide`, { reason: 'x'.repeat(1001) })), [
      'reason',
    ]);
    assert.equal((await chief().get(`/users/${u.id}`)).body.status, 'active');
  });
});

describe('every admin route', () => {
  it('answers 403 ADMIN_REQUIRED to a user and 401 without a token, changing nothing', async () => {
    const u = await registerUser(t);
    const victim = await registerUser(t);
    const video = await makeVideo(t, victim);
    const calls: [string, string, unknown?][] = [
      ['GET', '/users'],
      ['GET', `/users/${victim.id}`],
      [
        'POST',
        '/users',
        { username: 'sneaky', email: 'sneaky@example.test', password: 'a fine long password' },
      ],
      ['PUT', `/users/${u.id}`, { role: 'admin' }],
      ['PUT', `/users/${victim.id}/hide`],
      ['PUT', `/users/${victim.id}/restore`],
      ['DELETE', `/users/${victim.id}`],
      ['PATCH', `/users/${victim.id}`, { status: 'hidden' }],
      ['PUT', `/videos/${video}/hide`, { reason: 'x' }],
      ['PUT', `/videos/${video}/restore`],
      ['PUT', `/videos/${video}/reject`, { reason: 'x' }],
      ['PUT', `/videos/${video}/reinstate`],
      ['GET', '/audit'],
    ];
    for (const [method, path, body] of calls) {
      const opts = { body };
      assertProblem(
        await api(t, method, `/api/v1/admin${path}`, { ...opts, token: u.access_token }),
        403,
        'ADMIN_REQUIRED',
      );
      assertProblem(await api(t, method, `/api/v1/admin${path}`, opts), 401, 'TOKEN_MISSING');
    }
    assert.equal((await chief().get(`/users/${victim.id}`)).body.status, 'active');
    assert.equal((await chief().get(`/users/${u.id}`)).body.role, 'user');
    assert.equal((await api(t, 'GET', `/api/v1/videos/${video}`)).status, 200);
    assert.equal((await chief().get('/users?q=sneaky')).body.items.length, 0);
  });
});
