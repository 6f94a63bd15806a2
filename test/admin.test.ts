import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import { openEvents } from './helpers/sse.ts';
import { uploadVideo } from './helpers/upload.ts';

const ADMIN = { username: 'chief', email: 'Chief@Example.test', password: 'the admin password' };

let t: TestApp;
let admin: SignedIn;
before(async () => {
  // No worker: uploaded videos wait for the processing makeVideo does by hand. The email in mixed case:
  // the account keeps it as given and signs in with it in any case.
  ({ t, admin } = await startAdminApp({ account: ADMIN }));
});
after(() => t.stop());

const list = (token: string | undefined, query = '') =>
  api(t, 'GET', `/api/v1/admin/users${query}`, { token });
const patch = (token: string | undefined, id: string, body: unknown) =>
  api(t, 'PATCH', `/api/v1/admin/users/${id}`, { token, body });
const login = (by: Record<string, string>) => api(t, 'POST', '/api/v1/auth/login', { body: by });
const me = (token: string) => api(t, 'GET', '/api/v1/users/me', { token });
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Follows next_cursor from the first page to the last; answers every id seen, in order. */
async function walk(limit: number, extra = ''): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `?limit=${limit}${extra}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await list(admin.access_token, query);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.items.length <= limit);
    ids.push(...res.body.items.map((u: { id: string }) => u.id));
    cursor = res.body.next_cursor;
    pages++;
    assert.ok(pages < 100, 'pagination ends');
  } while (cursor);
  return { ids, pages };
}

describe('the first administrator', () => {
  it('is made from ADMIN_EMAIL/ADMIN_PASSWORD and signs in with role admin', async () => {
    assert.equal(admin.access_token.split('.').length, 3);
    const self = await me(admin.access_token);
    assert.equal(self.body.role, 'admin');
    assert.equal(self.body.username, ADMIN.username);
    assert.equal(self.body.email, ADMIN.email);
    const byEmail = await login({ email: ADMIN.email.toLowerCase(), password: ADMIN.password });
    assert.equal(byEmail.status, 200);
    assert.equal(byEmail.body.user.role, 'admin');
    assertProblem(
      await login({ email: ADMIN.email, password: 'not the password' }),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  it('is the only administrator a fresh install has, and registering never makes one', async () => {
    const u = await registerUser(t);
    assert.equal(u.user.role, 'user');
    const res = await list(admin.access_token, '?limit=100');
    const admins = res.body.items.filter((x: { role: string }) => x.role === 'admin');
    assert.deepEqual(
      admins.map((x: { id: string }) => x.id),
      [admin.id],
    );
  });
});

describe('GET /api/v1/admin/users', () => {
  it('lists accounts newest first, with email and status', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const res = await list(admin.access_token);
    assert.equal(res.status, 200);
    const ids = res.body.items.map((u: { id: string }) => u.id);
    assert.deepEqual(ids.slice(0, 2), [b.id, a.id]);
    assert.ok(ids.includes(admin.id));
    const item = res.body.items[0];
    assert.deepEqual(Object.keys(item).sort(), [
      'created_at',
      'display_name',
      'email',
      'id',
      'role',
      'status',
      'username',
    ]);
    assert.equal(item.email, b.email);
    assert.equal(item.status, 'active');
  });

  it('pages with limit and next_cursor, without gaps or repeats', async () => {
    for (let i = 0; i < 5; i++) await registerUser(t);
    const all = await list(admin.access_token, '?limit=100');
    assert.equal(all.body.next_cursor, null);
    const expected = all.body.items.map((u: { id: string }) => u.id);
    assert.ok(expected.length >= 6);
    assert.deepEqual([...expected].sort().reverse(), expected, 'newest (largest UUIDv7) first');

    const byTwo = await walk(2);
    assert.deepEqual(byTwo.ids, expected);
    assert.equal(byTwo.pages, Math.ceil(expected.length / 2), 'no empty last page');

    const first = await list(admin.access_token, '?limit=3');
    assert.equal(first.body.items.length, 3);
    assert.equal(typeof first.body.next_cursor, 'string');
    const exact = await list(admin.access_token, `?limit=${expected.length}`);
    assert.equal(exact.body.items.length, expected.length);
    assert.equal(exact.body.next_cursor, null, 'no cursor when nothing follows');
  });

  it('filters by status', async () => {
    const u = await registerUser(t);
    assert.equal((await patch(admin.access_token, u.id, { status: 'hidden' })).status, 200);
    const hidden = await walk(1, '&status=hidden');
    assert.ok(hidden.ids.includes(u.id));
    const active = await walk(100, '&status=active');
    assert.ok(!active.ids.includes(u.id));
    assert.ok(active.ids.includes(admin.id));
    assert.deepEqual(badFields(await list(admin.access_token, '?status=banned')), ['status']);
    assert.equal((await patch(admin.access_token, u.id, { status: 'active' })).status, 200);
  });

  it('refuses a bad limit or cursor with 400', async () => {
    for (const limit of ['0', '101', '-1', 'ten', '2.5']) {
      assert.deepEqual(badFields(await list(admin.access_token, `?limit=${limit}`)), ['limit'], limit);
    }
    for (const cursor of [
      'not-a-cursor',
      cursorOf(['not-a-uuid']),
      cursorOf({ id: uuidv7() }),
      cursorOf([]),
    ]) {
      const res = await list(admin.access_token, `?cursor=${encodeURIComponent(cursor)}`);
      assert.deepEqual(badFields(res), ['cursor'], cursor);
    }
    assert.deepEqual(badFields(await list(admin.access_token, `?cursor=${'a'.repeat(501)}`)), ['cursor']);
  });

  it('is for administrators only', async () => {
    const u = await registerUser(t);
    assertProblem(await list(u.access_token), 403, 'ADMIN_REQUIRED');
    assertProblem(await list(undefined), 401, 'TOKEN_MISSING');
    assertProblem(await list('garbage'), 401, 'TOKEN_INVALID');
  });
});

describe('PATCH /api/v1/admin/users/{id}', () => {
  it('hides an account: its sessions end, it cannot sign in; restoring lets it sign in again', async () => {
    const u = await registerUser(t);
    const res = await patch(admin.access_token, u.id, { status: 'hidden' });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, u.id);
    assert.equal(res.body.status, 'hidden');
    assert.equal(res.body.email, u.email);

    assertProblem(await me(u.access_token), 403, 'ACCOUNT_HIDDEN');
    assertProblem(await login({ username: u.username, password: u.password }), 403, 'ACCOUNT_HIDDEN');
    assertProblem(
      await api(t, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh_token } }),
      403,
      'ACCOUNT_HIDDEN',
    );

    const restored = await patch(admin.access_token, u.id, { status: 'active' });
    assert.equal(restored.status, 200);
    assert.equal(restored.body.status, 'active');
    const back = await login({ username: u.username, password: u.password });
    assert.equal(back.status, 200);
    assert.equal((await me(back.body.access_token)).status, 200);
    // Sessions from before the hiding stay ended.
    assertProblem(await me(u.access_token), 401, 'SESSION_REVOKED');
  });

  it('deletes an account the same way', async () => {
    const u = await registerUser(t);
    const res = await patch(admin.access_token, u.id, { status: 'deleted' });
    assert.equal(res.body.status, 'deleted');
    assertProblem(await me(u.access_token), 403, 'ACCOUNT_HIDDEN');
    assertProblem(await login({ email: u.email, password: u.password }), 403, 'ACCOUNT_HIDDEN');
  });

  it('promotes and demotes; the role holds from the next request', async () => {
    const u = await registerUser(t);
    assertProblem(await list(u.access_token), 403, 'ADMIN_REQUIRED');
    const up = await patch(admin.access_token, u.id, { role: 'admin' });
    assert.equal(up.body.role, 'admin');
    assert.equal((await list(u.access_token)).status, 200);
    const down = await patch(admin.access_token, u.id, { role: 'user' });
    assert.equal(down.body.role, 'user');
    assertProblem(await list(u.access_token), 403, 'ADMIN_REQUIRED');
  });

  it('answers 404 USER_NOT_FOUND for an unknown id and 400 for one that is not a uuid', async () => {
    assertProblem(await patch(admin.access_token, uuidv7(), { status: 'hidden' }), 404, 'USER_NOT_FOUND');
    for (const id of ['not-a-uuid', '123', `${uuidv7()}x`]) {
      assert.deepEqual(badFields(await patch(admin.access_token, id, { status: 'hidden' })), ['id'], id);
    }
  });

  it('refuses an empty or invalid change', async () => {
    const u = await registerUser(t);
    assert.deepEqual(badFields(await patch(admin.access_token, u.id, {})), ['status']);
    assert.deepEqual(badFields(await patch(admin.access_token, u.id, { status: 'banned' })), ['status']);
    assert.deepEqual(badFields(await patch(admin.access_token, u.id, { role: 'owner' })), ['role']);
    assert.equal((await me(u.access_token)).body.status, 'active');
  });

  it('will not let an administrator hide, delete or demote itself', async () => {
    for (const body of [{ status: 'hidden' }, { role: 'user' }]) {
      assertProblem(await patch(admin.access_token, admin.id, body), 403, 'PERMISSION_DENIED');
    }
    assertProblem(
      await patch(admin.access_token, admin.id, { status: 'deleted' }),
      403,
      'CANNOT_DELETE_SELF',
    );
    const self = await me(admin.access_token);
    assert.equal(self.status, 200);
    assert.equal(self.body.role, 'admin');
    assert.equal(self.body.status, 'active');
  });

  it('is for administrators only', async () => {
    const u = await registerUser(t);
    const victim = await registerUser(t);
    assertProblem(await patch(u.access_token, victim.id, { status: 'hidden' }), 403, 'ADMIN_REQUIRED');
    assertProblem(await patch(u.access_token, u.id, { role: 'admin' }), 403, 'ADMIN_REQUIRED');
    assertProblem(await patch(undefined, victim.id, { status: 'hidden' }), 401, 'TOKEN_MISSING');
    assert.equal((await me(victim.access_token)).body.status, 'active');
    assert.equal((await me(u.access_token)).body.role, 'user');
  });
});

describe('videos of a hidden account', () => {
  /**
   * A video uploaded by `user` through the API, as processing leaves it (done here by hand: the app has
   * no worker), with a segment and a poster in the store.
   */
  async function makeVideo(user: { access_token: string }, state: 'ready' | 'playable') {
    const { videos, store } = t.app;
    const id = await uploadVideo(t, user.access_token, Buffer.alloc(2000, 7), { title: 'Clip' });
    const started = await videos.runs.startProcessing(id);
    assert.ok(started, 'the upload left the video with a source to process');
    const version = started.media_version;
    for (const file of ['hls/master.m3u8', 'hls/240p/seg_00000.m4s', 'images/poster.jpg']) {
      await store.put(`videos/${id}/${version}/${file}`, `${file} of ${id}`);
    }
    if (state === 'ready') await videos.runs.markReady(id, version, []);
    else await videos.runs.markPlayable(id, version);
    return id;
  }
  const getVideo = (id: string, token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });
  /** URLs of a segment and the poster as the video hands them to `token`'s holder now. */
  async function mediaUrls(id: string, token?: string): Promise<string[]> {
    const res = await getVideo(id, token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { hls, poster } = res.body.playback;
    const [path, query] = hls.split('?');
    const segment = `${path.replace('master.m3u8', '240p/seg_00000.m4s')}${query ? `?${query}` : ''}`;
    return [hls, segment, poster];
  }
  const fetchMedia = (url: string, token?: string) => api(t, 'GET', url, { token });

  it('answer 404 like a missing video to all but administrators, and come back on restore', async () => {
    const owner = await registerUser(t);
    const viewer = await registerUser(t);
    const shown = await makeVideo(owner, 'ready');
    const unlisted = await makeVideo(owner, 'ready');
    const edited = await api(t, 'PATCH', `/api/v1/videos/${unlisted}`, {
      token: owner.access_token,
      body: { visibility: 'unlisted' },
    });
    assert.equal(edited.status, 200);
    const missing = await getVideo(uuidv7());
    assertProblem(missing, 404, 'VIDEO_NOT_FOUND');

    // A deleted account's videos are deleted with it (test/video-lifecycle.test.ts); hiding is undone.
    for (const status of ['hidden']) {
      const before = [...(await mediaUrls(shown)), ...(await mediaUrls(unlisted))];
      for (const url of before) assert.equal((await fetchMedia(url)).status, 200, url);

      assert.equal((await patch(admin.access_token, owner.id, { status })).status, 200);
      // The videos module moves their access epochs when it hears of the change.
      await eventsDelivered(t);
      for (const id of [shown, unlisted]) {
        for (const token of [undefined, viewer.access_token]) {
          const gone = await getVideo(id, token);
          assertProblem(gone, 404, 'VIDEO_NOT_FOUND');
          assert.equal(gone.body.detail, missing.body.detail);
        }
        assertProblem(await api(t, 'GET', `/api/v1/videos/${id}/processing`), 404, 'VIDEO_NOT_FOUND');
        // Administrators still see it, and may fetch its media.
        for (const url of await mediaUrls(id, admin.access_token)) {
          assert.equal((await fetchMedia(url, admin.access_token)).status, 200, url);
          assertProblem(await fetchMedia(url), 404, 'VIDEO_NOT_FOUND');
          assertProblem(await fetchMedia(url, viewer.access_token), 404, 'VIDEO_NOT_FOUND');
        }
      }
      // What was handed out before, playback tokens included, answers as a missing video does.
      for (const url of before) assertProblem(await fetchMedia(url), 404, 'VIDEO_NOT_FOUND');

      assert.equal((await patch(admin.access_token, owner.id, { status: 'active' })).status, 200);
      await eventsDelivered(t);
      for (const id of [shown, unlisted]) {
        assert.equal((await getVideo(id)).status, 200);
        for (const url of await mediaUrls(id)) assert.equal((await fetchMedia(url)).status, 200, url);
      }
      // The URLs from before the account was hidden stay refused: their viewers were let out.
      for (const url of before) assert.equal((await fetchMedia(url)).status, 404, url);
    }
  });

  it('end the event streams opened on them', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner, 'playable');
    const url = `${t.url}/api/v1/videos/${id}/events`;
    const anyone = await openEvents(url);
    const chief = await openEvents(url, admin.access_token);
    try {
      await anyone.until('playable');
      await chief.until('playable');
      assert.equal(await anyone.end(300), 'open');
      assert.equal((await patch(admin.access_token, owner.id, { status: 'hidden' })).status, 200);
      assert.equal(await anyone.end(5000), 'ended');
      assert.equal(await chief.end(300), 'open', 'an administrator still sees the video');
    } finally {
      anyone.close();
      chief.close();
      await patch(admin.access_token, owner.id, { status: 'active' });
    }
  });
});
