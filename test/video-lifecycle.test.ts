// A video's life through the API: publish, unpublish, schedule, delete; the processing updates a run
// sends, of which stale and out-of-order ones are ignored and counted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem } from './helpers/problems.ts';
import { createUpload } from './helpers/tus.ts';
import { eventsOf as eventsIn, makeVideo as makeVideoIn, runJobs as runJobsIn } from './helpers/videos.ts';

const METRICS_TOKEN = 'metrics-token-of-the-lifecycle-tests';

let t: TestApp;
let admin: SignedIn;
before(async () => {
  // No worker: processing is done by hand (makeVideo), and jobs are run by the test (runJobs).
  ({ t, admin } = await startAdminApp({ env: { METRICS_TOKEN } }));
});
after(() => t.stop());

type User = { id: string; access_token: string };
const makeVideo = (
  user: User,
  state?: 'ready' | 'playable' | 'unprocessed',
  upload?: { publish?: string; publish_at?: string },
) => makeVideoIn(t, user, state, upload);
const db = () => t.app.database.db;
const getVideo = (id: string, token?: string) => api(t, 'GET', `/api/v1/videos/${id}`, { token });
const del = (id: string, token?: string) => api(t, 'DELETE', `/api/v1/videos/${id}`, { token });
const setPublication = (id: string, publication: string) =>
  sql`update videos set publication = ${publication} where id = ${id}`.execute(db());

const eventsOf = (id: string) => eventsIn(t, id);
const runJobs = (name: string) => runJobsIn(t, name);

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
    assert.equal(await t.app.videos.deletion.deleteAllOf(owner.id), 0);
  });
});

const publish = (id: string, token: string | undefined, body: unknown) =>
  api(t, 'PATCH', `/api/v1/videos/${id}/publish`, { token, body });
const typesOf = async (id: string) => (await eventsOf(id)).map((e) => e.type);

describe('publication', () => {
  it('publishes an upload once it can be watched, then unpublishes and publishes it again', async () => {
    const owner = await registerUser(t);
    const viewer = await registerUser(t);
    const id = await makeVideo(owner, 'unprocessed');
    assert.equal((await getVideo(id, owner.access_token)).body.status, 'uploaded');
    assertProblem(await getVideo(id), 404, 'VIDEO_NOT_FOUND');
    const started = await t.app.videos.runs.startProcessing(id);
    await t.app.videos.runs.markPlayable(id, started!.media_version);
    assert.equal((await getVideo(id)).status, 200, 'published as soon as it plays');
    await t.app.videos.runs.markReady(id, started!.media_version, []);
    assert.deepEqual(await typesOf(id), ['video.published', 'video.ready']);

    const down = await publish(id, owner.access_token, { published: false });
    assert.equal(down.status, 200, JSON.stringify(down.body));
    for (const token of [undefined, viewer.access_token]) {
      assertProblem(await getVideo(id, token), 404, 'VIDEO_NOT_FOUND');
    }
    assert.equal((await getVideo(id, owner.access_token)).status, 200);
    // Asking again changes nothing and announces nothing.
    assert.equal((await publish(id, owner.access_token, { published: false })).status, 200);
    assert.equal((await publish(id, owner.access_token, { published: true })).status, 200);
    assert.equal((await publish(id, owner.access_token, { published: true })).status, 200);
    assert.equal((await getVideo(id, viewer.access_token)).status, 200);
    const events = await eventsOf(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['video.published', 'video.ready', 'video.unpublished', 'video.published'],
    );
    assert.deepEqual(events[2]!.payload, {
      video_id: id,
      owner_id: owner.id,
      publication: 'unpublished',
      reason: null,
    });

    // Others: 403 for a video they see, 404 for one they do not; an admin may.
    assertProblem(await publish(id, viewer.access_token, { published: false }), 403, 'PERMISSION_DENIED');
    assert.equal((await publish(id, admin.access_token, { published: false })).status, 200);
    assertProblem(await publish(id, viewer.access_token, { published: true }), 404, 'VIDEO_NOT_FOUND');
    assertProblem(await publish(id, undefined, { published: true }), 401, 'TOKEN_MISSING');
  });

  it('refuses invalid transitions with 409 INVALID_STATE', async () => {
    const owner = await registerUser(t);
    const draft = await makeVideo(owner, 'unprocessed');
    await setPublication(draft, 'draft');
    assertProblem(await publish(draft, owner.access_token, { published: false }), 409, 'INVALID_STATE');
    // Nothing to watch yet.
    assertProblem(await publish(draft, owner.access_token, { published: true }), 409, 'INVALID_STATE');

    const rejected = await makeVideo(owner);
    await setPublication(rejected, 'rejected');
    for (const published of [true, false]) {
      assertProblem(await publish(rejected, owner.access_token, { published }), 409, 'INVALID_STATE');
    }

    const failed = await makeVideo(owner, 'unprocessed');
    await setPublication(failed, 'draft');
    await t.app.videos.runs.startProcessing(failed);
    await t.app.videos.runs.markFailed(failed, 'ENCODING_FAILED', 'encoding: broken');
    assertProblem(await publish(failed, owner.access_token, { published: true }), 409, 'INVALID_STATE');
    assert.deepEqual(await typesOf(failed), ['video.failed']);
    assert.equal((await getVideo(failed, owner.access_token)).body.status, 'failed');

    const bad = await publish(draft, owner.access_token, { published: 'yes', publish_at: 'soon' });
    assertProblem(bad, 400, 'VALIDATION_FAILED');
  });

  it('publishes a scheduled video when its time comes', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner);
    assert.equal((await publish(id, owner.access_token, { published: false })).status, 200);
    const at = new Date(Date.now() + 1500);
    const res = await publish(id, owner.access_token, { published: true, publish_at: at.toISOString() });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const scheduler = t.app.jobs.get('videos.publish_due')!;
    assert.equal(scheduler.cron, '* * * * *');
    const runScheduler = () =>
      scheduler.handler(
        {},
        { jobId: '0', attempts: 1, maxAttempts: 1, signal: new AbortController().signal },
      );
    assert.equal(await runScheduler(), 'skipped', 'not yet');
    assertProblem(await getVideo(id), 404, 'VIDEO_NOT_FOUND');
    await new Promise((r) => setTimeout(r, at.getTime() - Date.now() + 50));
    assert.equal(await runScheduler(), 'done');
    assert.equal((await getVideo(id)).status, 200);
    assert.equal(await runScheduler(), 'skipped', 'once');
    assert.deepEqual(await typesOf(id), [
      'video.ready',
      'video.published',
      'video.unpublished',
      'video.published',
    ]);

    // A schedule cancelled before it came: a video never published goes back to a draft.
    const later = await makeVideo(owner, 'unprocessed');
    await setPublication(later, 'draft');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal(
      (await publish(later, owner.access_token, { published: true, publish_at: future })).status,
      200,
    );
    assert.equal((await publish(later, owner.access_token, { published: false })).status, 200);
    assertProblem(await publish(later, owner.access_token, { published: false }), 409, 'INVALID_STATE');
  });
});

describe('processing updates', () => {
  /** The counter of ignored updates, by reason, as /metrics shows it. */
  async function ignored(): Promise<Record<string, number>> {
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const text = await res.text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^video_processing_updates_ignored_total\{reason="(\w+)"\} (\d+)$/gm)) {
      out[m[1]!] = Number(m[2]);
    }
    return out;
  }
  const progressOf = async (id: string, token: string) =>
    (await api(t, 'GET', `/api/v1/videos/${id}/processing`, { token })).body;

  it('ignores and counts updates of another run or older than the last applied', async () => {
    const owner = await registerUser(t);
    const id = await makeVideo(owner, 'unprocessed');
    const { videos } = t.app;
    const t0 = Date.now();
    const at = (ms: number) => new Date(t0 + ms);
    const before = await ignored();
    const count = (reason: string) => before[reason] ?? 0;

    const first = await videos.runs.startProcessing(id, { jobId: '41', emittedAt: at(0) });
    // A later job claims the video: the first one's updates no longer count.
    const second = await videos.runs.startProcessing(id, { jobId: '42', emittedAt: at(10) });
    const version = second!.media_version;
    assert.equal(version, first!.media_version + 1);
    await videos.runs.reportProgress(id, 'encoding', 40, { jobId: '41', emittedAt: at(20) });
    assert.deepEqual((await progressOf(id, owner.access_token)).percent, 0);
    await videos.runs.reportProgress(id, 'encoding', 50, { jobId: '42', emittedAt: at(30) });
    // Sent before the one applied, arriving after it.
    await videos.runs.reportProgress(id, 'encoding', 45, { jobId: '42', emittedAt: at(25) });
    const progress = await progressOf(id, owner.access_token);
    assert.deepEqual([progress.stage, progress.percent], ['encoding', 50]);
    await videos.runs.markReady(id, first!.media_version, [], { jobId: '41', emittedAt: at(40) });
    await videos.runs.markPlayable(id, version, { jobId: '41', emittedAt: at(41) });
    await videos.runs.markFailed(id, 'ENCODING_FAILED', 'late', { jobId: '42', emittedAt: at(29) });
    assert.equal((await getVideo(id, owner.access_token)).body.status, 'processing');
    assert.deepEqual(await ignored(), {
      stale_job: count('stale_job') + 3,
      out_of_order: count('out_of_order') + 2,
    });

    await videos.runs.markPlayable(id, version, { jobId: '42', emittedAt: at(50) });
    await videos.runs.markReady(id, version, [], { jobId: '42', emittedAt: at(60) });
    assert.equal((await getVideo(id, owner.access_token)).body.status, 'ready');
    assert.deepEqual(await typesOf(id), ['video.published', 'video.ready']);
  });
});

describe('publication chosen at upload', () => {
  it('keeps a draft, schedules, or publishes when playable (the default)', async () => {
    const owner = await registerUser(t);
    const viewer = await registerUser(t);
    const draft = await makeVideo(owner, 'ready', { publish: 'false' });
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await makeVideo(owner, 'ready', { publish_at: later });
    const now = await makeVideo(owner, 'ready', { publish: 'true' });
    const byDefault = await makeVideo(owner, 'ready');
    const states = async (id: string) => {
      const v = (await getVideo(id, owner.access_token)).body;
      return [v.publication, v.publish_at];
    };
    assert.deepEqual(await states(draft), ['draft', null]);
    assert.deepEqual(await states(scheduled), ['scheduled', later]);
    assert.equal((await states(now))[0], 'published');
    assert.equal((await states(byDefault))[0], 'published');
    for (const id of [draft, scheduled])
      assertProblem(await getVideo(id, viewer.access_token), 404, 'VIDEO_NOT_FOUND');
    assert.deepEqual(await typesOf(draft), ['video.ready']);

    // tus metadata says the same.
    const created = await createUpload(t, owner.access_token, {
      size: 10,
      metadata: { filename: 'a.mp4', publish: 'false' },
    });
    assert.equal(created.status, 201);
    const tusId = created.headers.get('vireo-video-id')!;
    assert.equal((await getVideo(tusId, owner.access_token)).body.publication, 'draft');

    for (const [fields, bad] of [
      [{ publish: 'maybe' }, 'publish'],
      [{ publish_at: 'tomorrow' }, 'publish_at'],
      [{ publish: 'false', publish_at: later }, 'publish_at'],
    ] as const) {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append('file', new Blob([new Uint8Array(100)], { type: 'video/mp4' }), 'clip.mp4');
      const res = await fetch(`${t.url}/api/v1/videos/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${owner.access_token}` },
        body: form,
      });
      const body = await res.json();
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.deepEqual(
        body.errors.map((e: { field: string }) => e.field),
        [bad],
      );
    }
    const badTus = await createUpload(t, owner.access_token, {
      size: 10,
      metadata: { filename: 'a.mp4', publish_at: 'soon' },
    });
    assert.equal(badTus.status, 400);
  });
});
