// A video's life through the API: publish, unpublish, schedule, delete; the processing updates a run
// sends, of which stale and out-of-order ones are ignored and counted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem } from './helpers/problems.ts';
import { TEST_JWT_SECRET } from './helpers/tokens.ts';
import { uploadVideo } from './helpers/upload.ts';

const ADMIN = { username: 'chief', email: 'chief@example.test', password: 'the admin password' };

let t: TestApp;
let admin: { access_token: string };
before(async () => {
  t = await startTestApp(
    {
      JWT_SECRET: TEST_JWT_SECRET,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_USERNAME: ADMIN.username,
      REGISTER_LIMIT_PER_IP: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    },
    // No worker: processing is done by hand (makeVideo), and jobs are run by the test (runJobs).
    { role: 'api' },
  );
  const res = await api(t, 'POST', '/api/v1/auth/login', {
    body: { username: ADMIN.username, password: ADMIN.password },
  });
  admin = res.body;
});
after(() => t.stop());

type User = { id: string; access_token: string };

/**
 * A video uploaded by `user` through the API, processed by hand as a run would: `ready` (or `playable`)
 * with a segment and a poster in the store; `unprocessed` leaves it uploaded.
 */
async function makeVideo(
  user: User,
  state: 'ready' | 'playable' | 'unprocessed' = 'ready',
  upload: { publish?: string; publish_at?: string } = {},
): Promise<string> {
  const { videos, store } = t.app;
  const id = await uploadVideo(t, user.access_token, Buffer.alloc(2000, 7), { title: 'Clip', ...upload });
  if (state === 'unprocessed') return id;
  const started = await videos.startProcessing(id);
  assert.ok(started);
  const version = started.media_version;
  for (const file of ['hls/master.m3u8', 'hls/240p/seg_00000.m4s', 'images/poster.jpg']) {
    await store.put(`videos/${id}/${version}/${file}`, `${file} of ${id}`);
  }
  if (state === 'ready') await t.app.videos.markReady(id, version, []);
  else await t.app.videos.markPlayable(id, version);
  return id;
}

const db = () => t.app.database.db;
const getVideo = (id: string, token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });
const del = (id: string, token?: string) => api(t, 'DELETE', `/api/v1/videos/${id}`, { token });
const setPublication = (id: string, publication: string) =>
  sql`update videos set publication = ${publication} where id = ${id}`.execute(db());

/** The catalog events of one video, in order, as the outbox holds them. */
async function eventsOf(id: string): Promise<Array<{ type: string; payload: Record<string, unknown> }>> {
  const { rows } = await sql<{ type: string; payload: Record<string, unknown> }>`
    select type, payload from outbox_events where aggregate_id = ${id} and type like 'video.%'
      and type not in ('video.uploaded', 'video.reprocess_requested')
    order by order_txid, position`.execute(db());
  return rows;
}

/** Runs the pending jobs named `name` as a worker would (this app has none), and removes them. */
async function runJobs(name: string): Promise<number> {
  const { rows } = await sql<{ id: string; payload: unknown }>`
    select j.id::text, j.payload from graphile_worker._private_jobs j
      join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = ${name}`.execute(db());
  const def = t.app.jobs.get(name)!;
  for (const row of rows) {
    await def.handler(def.payload.parse(row.payload), {
      jobId: row.id,
      attempts: 1,
      maxAttempts: 1,
      signal: new AbortController().signal,
    });
    await sql`select graphile_worker.complete_jobs(array[${row.id}::bigint])`.execute(db());
  }
  return rows.length;
}

const storedKeys = async (id: string) => [
  ...(await t.app.store.list(`videos/${id}/`)),
  ...(await t.app.store.list(`sources/${id}/`)),
];

describe('deleting a video', () => {
  it('is refused while published, then removes the row and every stored object', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner);
    assert.equal((await getVideo(id)).body.status, 'ready');
    assert.ok((await storedKeys(id)).length >= 4, 'source and media stored');

    assertProblem(await del(id, owner.access_token), 409, 'VIDEO_NOT_UNPUBLISHED');
    assert.equal((await getVideo(id)).status, 200);

    await setPublication(id, 'unpublished');
    await runJobs('videos.remove_media'); // none yet
    const res = await del(id, owner.access_token);
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assertProblem(await getVideo(id, owner.access_token), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await del(id, owner.access_token), 404, 'VIDEO_NOT_FOUND');
    // The objects go by a job enqueued with the deletion: a crash after the commit loses nothing.
    assert.ok((await storedKeys(id)).length > 0);
    assert.equal(await runJobs('videos.remove_media'), 1);
    assert.deepEqual(await storedKeys(id), []);
    const deleted = (await eventsOf(id)).filter((e) => e.type === 'video.deleted');
    assert.deepEqual(
      deleted.map((e) => e.payload),
      [{ video_id: id, owner_id: owner.id }],
    );
  });

  it('lets a draft be deleted, by its owner or an admin only', async () => {
    const owner = await registerUser(t);
    const other = await registerUser(t);
    const draft = await makeVideo(owner, 'unprocessed');
    await setPublication(draft, 'draft');
    // A stranger cannot see it: it does not exist for them.
    assertProblem(await del(draft, other.access_token), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await del(draft), 401, 'TOKEN_MISSING');
    assertProblem(await del(uuidv7(), owner.access_token), 404, 'VIDEO_NOT_FOUND');
    assert.equal((await del(draft, owner.access_token)).status, 204);

    // One they can see but not manage: 403.
    const shown = await makeVideo(owner);
    assertProblem(await del(shown, other.access_token), 403, 'PERMISSION_DENIED');
    await setPublication(shown, 'unpublished');
    assert.equal((await del(shown, admin.access_token)).status, 204);
    await runJobs('videos.remove_media');
    assert.deepEqual(await storedKeys(shown), []);
  });

  it('goes for every video of an account when it is deleted, published or not', async () => {
    const owner = await registerUser(t);
    const keep = await registerUser(t);
    const ids = [
      await makeVideo(owner),
      await makeVideo(owner, 'playable'),
      await makeVideo(owner, 'unprocessed'),
    ];
    const kept = await makeVideo(keep);
    const res = await api(t, 'PATCH', `/api/v1/admin/users/${owner.id}`, {
      token: admin.access_token,
      body: { status: 'deleted' },
    });
    assert.equal(res.status, 200);
    await eventsDelivered(t);
    await runJobs('videos.remove_media');
    for (const id of ids) {
      assertProblem(await getVideo(id, admin.access_token), 404, 'VIDEO_NOT_FOUND');
      assert.deepEqual(await storedKeys(id), []);
      assert.equal((await eventsOf(id)).filter((e) => e.type === 'video.deleted').length, 1);
    }
    assert.equal((await getVideo(kept)).status, 200);
    assert.ok((await storedKeys(kept)).length > 0);
    assert.equal(await t.app.videos.deleteAllOf(owner.id), 0);
  });
});
