// Channels through the HTTP API: made with the account, found by id or handle, changed by the owner
// or an admin only, their images checked and resized, their public video list, and their deletion.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { eventsDelivered } from './helpers/events.ts';
import { makePicture, tempDir } from './helpers/media.ts';
import { assertProblem } from './helpers/problems.ts';
import { uploadVideo } from './helpers/upload.ts';

const run = promisify(execFile);

type User = Awaited<ReturnType<typeof registerUser>>;

let t: TestApp;
let admin: SignedIn;
let dir: string;
before(async () => {
  // No worker: videos are made playable by hand (makeVideo). The webhook endpoint of the last test is
  // on loopback.
  ({ t, admin } = await startAdminApp({ env: { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } }));
  dir = await tempDir('vireo-channels-');
});
after(async () => {
  await t.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

const me = (token: string) => api(t, 'GET', '/api/v1/users/me', { token });
const channel = (ref: string, token?: string) => api(t, 'GET', `/api/v1/channels/${ref}`, { token });
const put = (id: string, token: string | undefined, body: unknown) =>
  api(t, 'PUT', `/api/v1/channels/${id}`, { token, body });
const channelOf = async (user: { access_token: string }): Promise<string> => {
  const res = await me(user.access_token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.channel_id;
};

/** Events of one type about one channel, as the outbox holds them. */
async function eventsOf(type: string, channelId: string): Promise<Array<{ payload: { fields?: string[] } }>> {
  const { rows } = await sql<{ payload: { fields?: string[] } }>`
    select payload from outbox_events where type = ${type} and aggregate_id = ${channelId}
    order by id`.execute(t.app.database.db);
  return rows;
}

/** An uploaded video brought to playable (and so published) without a worker. */
async function makeVideo(user: { access_token: string }, title: string): Promise<string> {
  const { videos, store } = t.app;
  const id = await uploadVideo(t, user.access_token, Buffer.alloc(2000, 7), { title });
  const started = await videos.runs.startProcessing(id);
  assert.ok(started);
  for (const file of ['hls/master.m3u8', 'images/poster.jpg']) {
    await store.put(`videos/${id}/${started.media_version}/${file}`, `${file} of ${id}`);
  }
  await videos.runs.markPlayable(id, started.media_version);
  return id;
}

const image = async (name: string, size: string) => fs.readFile(await makePicture(dir, name, size));

async function sendImage(id: string, kind: string, token: string, body: Buffer, type = 'image/png') {
  const res = await fetch(`${t.url}/api/v1/channels/${id}/${kind}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: new Uint8Array(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function dimensionsOf(bytes: Buffer): Promise<string> {
  const file = path.join(dir, `probe-${Date.now()}`);
  await fs.writeFile(file, bytes);
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=width,height,codec_name',
    '-of',
    'csv=p=0',
    file,
  ]);
  return stdout.trim();
}

describe('a channel comes with every account', () => {
  it('is made at registration, named after the user, and /users/me carries its id', async () => {
    const user = await registerUser(t, { display_name: 'Ada Lovelace' });
    const id = await channelOf(user);
    assert.match(id, /^[0-9a-f-]{36}$/);
    const res = await channel(id);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.handle, user.username.toLowerCase());
    assert.equal(res.body.name, 'Ada Lovelace');
    assert.equal(res.body.owner_id, user.id);
    assert.equal(res.body.monthly_fee, '0.00');
    assert.equal(res.body.currency, 'USD');
    assert.equal(res.body.membership_tier, 'none');
    assert.deepEqual(
      [res.body.subscriber_count, res.body.premium_count, res.body.video_count, res.body.avatar_url],
      [0, 0, 0, null],
    );
    assert.equal((await eventsOf('channel.created', id)).length, 1);
    // The first administrator, made at boot, has one too.
    assert.ok(await channelOf(admin));
  });

  it('takes a suffix when the handle is taken, and registration still succeeds', async () => {
    const first = await registerUser(t);
    const wanted = `taken_${Date.now().toString(36)}`;
    assert.equal((await put(await channelOf(first), first.access_token, { handle: wanted })).status, 200);
    const second = await registerUser(t, { username: wanted.toUpperCase() });
    const res = await channel(await channelOf(second));
    assert.equal(res.body.handle, `${wanted}_2`);
    // Usernames longer than a handle may be are cut; two that cut alike still both register.
    const long = `x${Date.now().toString(36)}`.padEnd(30, 'y');
    const a = await registerUser(t, { username: `${long}a1` });
    const b = await registerUser(t, { username: `${long}b2` });
    const handles = [
      (await channel(await channelOf(a))).body.handle,
      (await channel(await channelOf(b))).body.handle,
    ];
    assert.deepEqual(handles, [long, `${long.slice(0, 28)}_2`]);
  });

  it('is found by id and by handle in any case; an unknown one is 404', async () => {
    const user = await registerUser(t);
    const id = await channelOf(user);
    const byHandle = await channel(user.username.toUpperCase());
    assert.equal(byHandle.status, 200);
    assert.equal(byHandle.body.id, id);
    assertProblem(await channel('no_such_handle_here'), 404, 'CHANNEL_NOT_FOUND');
    assertProblem(await channel('0190a0a0-0000-7000-8000-000000000000'), 404, 'CHANNEL_NOT_FOUND');
  });
});

describe('memberships', () => {
  it('counts subscribers and premium members, and tells the caller their tier', async () => {
    const owner = await registerUser(t);
    const fan = await registerUser(t);
    const patron = await registerUser(t);
    const id = await channelOf(owner);
    const channels = t.app.services.channels;
    await t.app.database.db.transaction().execute(async (tx) => {
      await channels.setMembership(tx, id, fan.id, 1);
      await channels.setMembership(tx, id, patron.id, 1);
      await channels.setMembership(tx, id, patron.id, 2);
    });
    const seen = async (token?: string) => {
      const res = await channel(id, token);
      return [res.body.subscriber_count, res.body.premium_count, res.body.membership_tier];
    };
    assert.deepEqual(await seen(), [2, 1, 'none']);
    assert.deepEqual(await seen(fan.access_token), [2, 1, 'subscriber']);
    assert.deepEqual(await seen(patron.access_token), [2, 1, 'premium']);
    assert.equal(await channels.membershipTier(id, patron.id), 2);
    await t.app.database.db.transaction().execute((tx) => channels.setMembership(tx, id, fan.id, null));
    assert.deepEqual(await seen(fan.access_token), [1, 1, 'none']);
    assert.equal((await channels.ofOwner(owner.id))?.id, id);
    assert.equal((await channels.get(id.toUpperCase()))?.id, id);
  });
});

describe('changing a channel', () => {
  let owner: User;
  let other: User;
  let id: string;
  before(async () => {
    owner = await registerUser(t);
    other = await registerUser(t);
    id = await channelOf(owner);
  });

  it('the owner changes it, once per change; others are refused', async () => {
    const handle = `ch_${Date.now().toString(36)}`;
    const res = await put(id, owner.access_token, {
      handle: handle.toUpperCase(),
      name: ' Cooking with Ada ',
      description: 'Recipes',
      monthly_fee: '4.5',
      currency: 'EUR',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      [res.body.handle, res.body.name, res.body.description, res.body.monthly_fee, res.body.currency],
      [handle, 'Cooking with Ada', 'Recipes', '4.50', 'EUR'],
    );
    assert.equal((await channel(handle)).body.id, id);
    // The same values again change nothing and announce nothing.
    assert.equal(
      (await put(id, owner.access_token, { name: 'Cooking with Ada', monthly_fee: '4.50' })).status,
      200,
    );
    const updates = await eventsOf('channel.updated', id);
    assert.equal(updates.length, 1);
    assert.deepEqual((updates[0]?.payload.fields ?? []).sort(), [
      'currency',
      'description',
      'handle',
      'monthly_fee',
      'name',
    ]);

    assertProblem(await put(id, other.access_token, { name: 'Mine now' }), 403, 'PERMISSION_DENIED');
    assertProblem(await put(id, undefined, { name: 'Mine now' }), 401, 'TOKEN_MISSING');
    const byAdmin = await put(id, admin.access_token, { description: 'Edited by staff' });
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.description, 'Edited by staff');
    assert.equal((await eventsOf('channel.updated', id)).length, 2);
    assertProblem(
      await put('0190a0a0-0000-7000-8000-000000000000', owner.access_token, { name: 'x' }),
      404,
      'CHANNEL_NOT_FOUND',
    );
  });

  it('refuses a handle another channel has, whatever its case', async () => {
    const taken = (await channel(await channelOf(other))).body.handle as string;
    const res = await put(id, owner.access_token, { handle: taken.toUpperCase() });
    assertProblem(res, 409, 'HANDLE_TAKEN');
    assert.deepEqual(res.body.errors, [{ field: 'handle', message: 'is taken' }]);
  });

  it('checks every field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ handle: 'ab' }, 'handle'],
      [{ handle: 'no spaces' }, 'handle'],
      [{ handle: 'x'.repeat(31) }, 'handle'],
      [{ name: '  ' }, 'name'],
      [{ name: 'n'.repeat(51) }, 'name'],
      [{ description: 'd'.repeat(1001) }, 'description'],
      [{ monthly_fee: '1000.01' }, 'monthly_fee'],
      [{ monthly_fee: '1.234' }, 'monthly_fee'],
      [{ monthly_fee: '-1' }, 'monthly_fee'],
      [{ monthly_fee: 5 }, 'monthly_fee'],
      [{ currency: 'XYZ' }, 'currency'],
    ];
    for (const [body, field] of cases) {
      const res = await put(id, owner.access_token, body);
      assertProblem(res, 400, 'VALIDATION_FAILED');
      assert.deepEqual(
        res.body.errors.map((e: { field: string }) => e.field),
        [field],
        JSON.stringify(body),
      );
    }
    const top = await put(id, owner.access_token, { monthly_fee: '1000', currency: 'JPY' });
    assert.equal(top.status, 200);
    assert.equal(top.body.monthly_fee, '1000.00');
  });
});

describe('channel images', () => {
  let owner: User;
  let id: string;
  let png: Buffer;
  before(async () => {
    owner = await registerUser(t);
    id = await channelOf(owner);
    png = await image('x.png', '64x48');
  });

  it('an avatar is resized to 256x256, served for good under a new name per change', async () => {
    const res = await sendImage(id, 'avatar', owner.access_token, png);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const url = res.body.avatar_url as string;
    assert.match(url, new RegExp(`^/media/channels/${id}/avatar-[a-z0-9]+\\.webp$`));
    const served = await fetch(`${t.url}${url}`);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/webp');
    assert.match(served.headers.get('cache-control') ?? '', /immutable/);
    assert.equal(await dimensionsOf(Buffer.from(await served.arrayBuffer())), 'webp,256,256');

    const jpeg = await image('x.jpg', '300x200');
    const again = await sendImage(id, 'avatar', owner.access_token, jpeg, 'image/jpeg');
    assert.equal(again.status, 200);
    assert.notEqual(again.body.avatar_url, url);
    assert.equal((await fetch(`${t.url}${url}`)).status, 404, 'the replaced image is gone');
    assert.equal(await t.app.store.stat(url.slice('/media/'.length)), null);
    assert.equal((await fetch(`${t.url}${again.body.avatar_url}`)).status, 200);
    assert.equal((await eventsOf('channel.updated', id)).length, 2);
  });

  it('a banner is resized to 2048x512', async () => {
    const res = await sendImage(
      id,
      'banner',
      owner.access_token,
      await image('wide.webp', '400x100'),
      'image/webp',
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const served = await fetch(`${t.url}${res.body.banner_url}`);
    assert.equal(await dimensionsOf(Buffer.from(await served.arrayBuffer())), 'webp,2048,512');
  });

  it('refuses what is not a picture, an HLS playlist named .png, and pictures too large', async () => {
    const refused: Array<[Buffer, string]> = [
      [Buffer.from('just some text, not an image'), 'text'],
      [
        Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:/etc/passwd\n#EXT-X-ENDLIST\n'),
        'playlist',
      ],
      [png.subarray(0, 40), 'truncated'],
      [await image('tall.png', '2x8002'), 'too many pixels'],
    ];
    for (const [bytes, what] of refused) {
      const res = await sendImage(id, 'avatar', owner.access_token, bytes);
      assertProblem(res, 422, 'IMAGE_INVALID');
      assert.equal(res.body.errors[0].field, 'avatar', what);
    }
    assertProblem(
      await sendImage(id, 'avatar', owner.access_token, png, 'text/plain'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const big = Buffer.concat([png, Buffer.alloc(20 * 1024 * 1024)]);
    assertProblem(await sendImage(id, 'avatar', owner.access_token, big), 413, 'PAYLOAD_TOO_LARGE');
    const other = await registerUser(t);
    assertProblem(await sendImage(id, 'avatar', other.access_token, png), 403, 'PERMISSION_DENIED');
  });

  it('documents the picture as the request body', async () => {
    const doc = await (await fetch(`${t.url}/api/openapi.json`)).json();
    const body = doc.paths['/api/v1/channels/{id}/avatar'].put.requestBody;
    assert.deepEqual(Object.keys(body.content).sort(), ['image/jpeg', 'image/png', 'image/webp']);
  });

  it('an image is removed with DELETE', async () => {
    const before = (await channel(id)).body.banner_url as string;
    assert.ok(before);
    const res = await api(t, 'DELETE', `/api/v1/channels/${id}/banner`, { token: owner.access_token });
    assert.equal(res.status, 200);
    assert.equal(res.body.banner_url, null);
    assert.equal((await fetch(`${t.url}${before}`)).status, 404);
  });
});

describe("a channel's videos", () => {
  let owner: User;
  let id: string;
  const list = (query = '', headers: Record<string, string> = {}) =>
    api(t, 'GET', `/api/v1/channels/${id}/videos${query}`, { headers });
  before(async () => {
    owner = await registerUser(t);
    id = await channelOf(owner);
  });

  it('lists only what anyone may see, newest first, page by page, with an ETag', async () => {
    const first = await makeVideo(owner, 'First');
    const second = await makeVideo(owner, 'Second');
    const third = await makeVideo(owner, 'Third');
    // Uploaded but never processed: not published, so not listed.
    await uploadVideo(t, owner.access_token, Buffer.alloc(2000, 7), { title: 'Waiting' });

    const res = await list();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.items.map((v: { id: string }) => v.id),
      [third, second, first],
    );
    const item = res.body.items[0];
    assert.equal(item.title, 'Third');
    assert.equal(item.views_count, 0);
    assert.equal(item.access_tier, 0);
    assert.match(item.thumbnail_url, new RegExp(`^/media/videos/${third}/\\d+/e\\d+/images/poster\\.jpg$`));
    assert.equal((await channel(id)).body.video_count, 3);

    const page1 = await list('?limit=2');
    assert.equal(page1.body.items.length, 2);
    const page2 = await list(`?limit=2&cursor=${page1.body.next_cursor}`);
    assert.deepEqual(
      page2.body.items.map((v: { id: string }) => v.id),
      [first],
    );
    assert.equal(page2.body.next_cursor, null);
    assertProblem(await list('?cursor=nonsense'), 400, 'VALIDATION_FAILED');

    const etag = res.headers.get('etag');
    assert.ok(etag);
    const same = await list('', { 'if-none-match': etag });
    assert.equal(same.status, 304);

    // Made private by its owner: it leaves the list (and the ETag changes).
    const hide = await api(t, 'PATCH', `/api/v1/videos/${second}`, {
      token: owner.access_token,
      body: { visibility: 'private' },
    });
    assert.equal(hide.status, 200, JSON.stringify(hide.body));
    const after = await list('', { 'if-none-match': etag });
    assert.equal(after.status, 200);
    assert.deepEqual(
      after.body.items.map((v: { id: string }) => v.id),
      [third, first],
    );
    // Owner and admin see the same public list here.
    for (const token of [owner.access_token, admin.access_token]) {
      const seen = await api(t, 'GET', `/api/v1/channels/${id}/videos`, { token });
      assert.deepEqual(
        seen.body.items.map((v: { id: string }) => v.id),
        [third, first],
      );
    }
    assert.equal((await channel(id)).body.video_count, 2);

    // Unpublished by its owner: gone too.
    const down = await api(t, 'PATCH', `/api/v1/videos/${first}/publish`, {
      token: owner.access_token,
      body: { published: false },
    });
    assert.equal(down.status, 200, JSON.stringify(down.body));
    assert.deepEqual(
      (await list()).body.items.map((v: { id: string }) => v.id),
      [third],
    );
  });

  it('a hidden owner’s channel is 404 to everyone but admins', async () => {
    const res = await api(t, 'PATCH', `/api/v1/admin/users/${owner.id}`, {
      token: admin.access_token,
      body: { status: 'hidden' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertProblem(await channel(id), 404, 'CHANNEL_NOT_FOUND');
    assertProblem(await list(), 404, 'CHANNEL_NOT_FOUND');
    const someone = await registerUser(t);
    assertProblem(await channel(id, someone.access_token), 404, 'CHANNEL_NOT_FOUND');
    assert.equal((await channel(id, admin.access_token)).status, 200);
    await api(t, 'PATCH', `/api/v1/admin/users/${owner.id}`, {
      token: admin.access_token,
      body: { status: 'active' },
    });
    assert.equal((await channel(id)).status, 200);
  });
});

describe('deleting my channel', () => {
  it('removes the channel, its images and my videos; the account stays and may make a new one', async () => {
    const owner = await registerUser(t);
    const id = await channelOf(owner);
    const avatar = await sendImage(id, 'avatar', owner.access_token, await image('d.png', '32x32'));
    assert.equal(avatar.status, 200);
    const video = await makeVideo(owner, 'Goes with the channel');

    const res = await api(t, 'DELETE', '/api/v1/user/channel', { token: owner.access_token });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assert.equal(await channelOf(owner), null);
    assertProblem(await channel(id), 404, 'CHANNEL_NOT_FOUND');
    assert.deepEqual(await t.app.store.list(`channels/${id}/`), []);
    assert.equal((await eventsOf('channel.deleted', id)).length, 1);
    // The owner's videos are gone (VideosService.deletion.deleteAllOf, whose job then removes their objects).
    assert.equal((await api(t, 'GET', `/api/v1/videos/${video}`, { token: owner.access_token })).status, 404);
    assert.equal((await eventsOf('video.deleted', video)).length, 1);
    assertProblem(
      await api(t, 'DELETE', '/api/v1/user/channel', { token: owner.access_token }),
      404,
      'CHANNEL_NOT_FOUND',
    );

    const taken = (await channel(await channelOf(await registerUser(t)))).body.handle;
    assertProblem(
      await api(t, 'POST', '/api/v1/user/channel', {
        token: owner.access_token,
        body: { handle: taken, name: 'Again' },
      }),
      409,
      'HANDLE_TAKEN',
    );
    const made = await api(t, 'POST', '/api/v1/user/channel', {
      token: owner.access_token,
      body: { handle: `again_${Date.now().toString(36)}`, name: 'Again' },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(await channelOf(owner), made.body.id);
    assertProblem(
      await api(t, 'POST', '/api/v1/user/channel', {
        token: owner.access_token,
        body: { handle: 'another_one', name: 'x' },
      }),
      409,
      'CHANNEL_EXISTS',
    );
  });
});

describe('accounts older than channels', () => {
  it('get a channel from migration 0010, handles unique even when usernames cut alike', async () => {
    const db = t.app.database.db;
    const stamp = Date.now().toString(36);
    const long = `Old${stamp}`.padEnd(30, 'z');
    const users = [`Old_${stamp}`, `${long}A`, `${long}B`];
    const ids: string[] = [];
    for (const [i, username] of users.entries()) {
      const { rows } = await sql<{ id: string }>`
        insert into users (id, username, email, password_hash, display_name, created_at)
        values (gen_random_uuid(), ${username}, ${`${username}@old.test`}, 'x', ${`Old ${i}`},
          now() - interval '1 day' + ${i} * interval '1 second')
        returning id`.execute(db);
      ids.push(rows[0]!.id);
    }
    const migration = await fs.readFile(
      path.join(import.meta.dirname, '../migrations/0010_channels.sql'),
      'utf8',
    );
    await sql.raw(migration).execute(db);
    await sql.raw(migration).execute(db);
    const { rows } = await sql<{ owner_id: string; handle: string; name: string }>`
      select owner_id, handle, name from channels where owner_id = any(${ids}::uuid[])`.execute(db);
    const handleOf = (id: string) => rows.find((r) => r.owner_id === id)?.handle;
    assert.equal(rows.length, 3);
    assert.equal(handleOf(ids[0]!), `old_${stamp}`);
    assert.equal(handleOf(ids[1]!), long.toLowerCase());
    assert.match(handleOf(ids[2]!) ?? '', new RegExp(`^${long.toLowerCase().slice(0, 21)}_[0-9a-f]{8}$`));
    assert.equal(rows.find((r) => r.owner_id === ids[0])?.name, 'Old 0');
  });
});

describe('a deleted account', () => {
  it('takes its channel and images with it; a hidden one keeps them', async () => {
    const owner = await registerUser(t);
    const id = await channelOf(owner);
    assert.equal(
      (await sendImage(id, 'avatar', owner.access_token, await image('g.png', '16x16'))).status,
      200,
    );
    const status = (s: string) =>
      api(t, 'PATCH', `/api/v1/admin/users/${owner.id}`, { token: admin.access_token, body: { status: s } });
    assert.equal((await status('hidden')).status, 200);
    await eventsDelivered(t);
    assert.equal((await channel(id, admin.access_token)).status, 200);
    assert.equal((await t.app.store.list(`channels/${id}/`)).length, 1);
    assert.equal((await status('deleted')).status, 200);
    await eventsDelivered(t);
    assertProblem(await channel(id, admin.access_token), 404, 'CHANNEL_NOT_FOUND');
    assert.deepEqual(await t.app.store.list(`channels/${id}/`), []);
    assert.equal((await eventsOf('channel.deleted', id)).length, 1);
  });
});

describe('channel webhooks', () => {
  it('queue a delivery of channel.updated for an endpoint that asked for it', async () => {
    const types = await api(t, 'GET', '/api/v1/webhooks/event-types', { token: admin.access_token });
    assert.ok(JSON.stringify(types.body).includes('channel.updated'), JSON.stringify(types.body));
    const owner = await registerUser(t);
    const id = await channelOf(owner);
    const endpoint = await api(t, 'POST', '/api/v1/webhooks/endpoints', {
      token: owner.access_token,
      // Deliveries are sent by workers (this app has none): the test looks at what is queued.
      body: { url: 'http://127.0.0.1:9/hook', event_types: ['channel.updated', 'channel.deleted'] },
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    assert.equal((await put(id, owner.access_token, { name: 'Hooked' })).status, 200);
    await eventsDelivered(t);
    const { rows } = await sql<{ id: string }>`
      select id from outbox_events where type = 'channel.updated' and aggregate_id = ${id}`.execute(
      t.app.database.db,
    );
    const deliveries = await api(t, 'GET', `/api/v1/webhooks/endpoints/${endpoint.body.id}/deliveries`, {
      token: owner.access_token,
    });
    assert.equal(deliveries.status, 200, JSON.stringify(deliveries.body));
    assert.deepEqual(
      deliveries.body.items.map((d: { event_id: string }) => d.event_id),
      rows.map((r) => r.id),
    );
  });
});
