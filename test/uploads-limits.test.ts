// What keeps one person from filling the disk, through the real server: new uploads are refused below a
// free-space floor of the upload folder's disk, a user may have only so many unfinished uploads, and a
// one-request upload holds its room in the quota before it streams, so two cannot both take it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expireUploadsJobName, UploadsService } from '../src/modules/uploads/index.ts';
import { type ApiResponse, readResponse, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem } from './helpers/problems.ts';
import { createUpload, TUS_VERSION, tusFetch, tusMetadata } from './helpers/tus.ts';

const MiB = 1024 * 1024;

async function plainUpload(
  t: TestApp,
  token: string,
  data: Buffer,
  filename = 'a.mp4',
): Promise<ApiResponse> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)], { type: 'video/mp4' }), filename);
  const res = await fetch(`${t.url}/api/v1/videos/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/**
 * A multipart upload whose body the caller sends piece by piece; `done` is its answer. `cutShort`: the
 * body (as long as it says) ends without the form's closing boundary.
 */
function slowPlainUpload(t: TestApp, token: string, size: number, cutShort = false) {
  const head = Buffer.from(
    '--b\r\nContent-Disposition: form-data; name="file"; filename="slow.mp4"\r\n' +
      'Content-Type: video/mp4\r\n\r\n',
  );
  const tail = cutShort ? Buffer.alloc(0) : Buffer.from('\r\n--b--\r\n');
  const req = http.request(`${t.url}/api/v1/videos/upload`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'multipart/form-data; boundary=b',
      'content-length': String(head.length + size + tail.length),
    },
  });
  const done = new Promise<ApiResponse>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => resolve(readResponse(res)));
  });
  req.write(head);
  return {
    done,
    write: (chunk: Buffer) => new Promise<void>((r) => req.write(chunk, () => r())),
    end: () => req.end(tail),
  };
}

async function waitFor(what: string, probe: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function videoCount(t: TestApp, ownerId: string): Promise<number> {
  const { rows } = await t.app.database.pool.query(
    'select count(*)::int as n from videos where owner_id = $1',
    [ownerId],
  );
  return rows[0].n;
}

describe('the free-space floor of the upload folder', () => {
  let t: TestApp;
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-limits-'));
    // A floor no disk reaches: every new upload is refused.
    t = await startTestApp(
      {
        UPLOAD_DIR: path.join(root, 'uploads'),
        STORAGE_DIR: path.join(root, 'storage'),
        UPLOAD_MIN_FREE_BYTES: String(2 ** 52),
      },
      { role: 'api' },
    );
  });
  after(async () => {
    await t.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('refuses tus creations and one-request uploads with 507 INSUFFICIENT_STORAGE', async () => {
    const user = await registerUser(t);
    const tus = await createUpload(t, user.access_token, { size: 1000 });
    assertProblem(tus, 507, 'INSUFFICIENT_STORAGE');
    assert.equal(tus.headers.get('tus-resumable'), TUS_VERSION);
    const deferred = await tusFetch(t, 'POST', '/api/v1/uploads', {
      token: user.access_token,
      headers: { 'upload-defer-length': '1', 'upload-metadata': tusMetadata({ filename: 'a.webm' }) },
    });
    assertProblem(deferred, 507, 'INSUFFICIENT_STORAGE');
    assertProblem(await plainUpload(t, user.access_token, randomBytes(1000)), 507, 'INSUFFICIENT_STORAGE');
    assert.equal(await videoCount(t, user.id), 0);
  });

  it('counts the declared size, and the percentage floor', async () => {
    const deps = {
      db: t.app.database.db,
      databaseUrl: t.db.url,
      videos: t.app.videos,
      store: t.app.store,
      logger: t.app.logger,
    };
    const service = (floor: { minFreeBytes: number; minFreePercent: number }) =>
      new UploadsService({ ...deps, config: { ...t.app.config.uploads, ...floor } });
    const none = service({ minFreeBytes: 0, minFreePercent: 0 });
    await none.assertDiskRoom(1000);
    // More than any disk holds: it would not fit whatever the floor.
    await assert.rejects(none.assertDiskRoom(2 ** 52), { code: 'INSUFFICIENT_STORAGE' });
    await assert.rejects(service({ minFreeBytes: 0, minFreePercent: 100 }).assertDiskRoom(0), {
      code: 'INSUFFICIENT_STORAGE',
    });
  });
});

describe('per-user upload limits', () => {
  let t: TestApp;
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-limits-'));
    t = await startTestApp(
      {
        UPLOAD_DIR: path.join(root, 'uploads'),
        STORAGE_DIR: path.join(root, 'storage'),
        UPLOAD_MAX_BYTES: String(4 * MiB),
        UPLOAD_QUOTA_BYTES: String(6 * MiB),
        UPLOAD_MAX_UNFINISHED: '2',
      },
      { role: 'api' },
    );
  });
  after(async () => {
    await t.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('refuses a third unfinished upload with 429 TOO_MANY_UPLOADS, until one ends', async () => {
    const user = await registerUser(t);
    const token = user.access_token;
    const first = await createUpload(t, token, { size: 100 });
    assert.equal(first.status, 201);
    assert.equal((await createUpload(t, token, { size: 100 })).status, 201);
    const third = await createUpload(t, token, { size: 100 });
    assertProblem(third, 429, 'TOO_MANY_UPLOADS');
    assert.equal(third.headers.get('tus-resumable'), TUS_VERSION);
    assertProblem(await plainUpload(t, token, randomBytes(100)), 429, 'TOO_MANY_UPLOADS');
    assert.equal(await videoCount(t, user.id), 2);
    // Another user is not held back.
    assert.equal((await createUpload(t, (await registerUser(t)).access_token, { size: 100 })).status, 201);

    assert.equal((await tusFetch(t, 'DELETE', first.headers.get('location')!, { token })).status, 204);
    assert.equal((await createUpload(t, token, { size: 100 })).status, 201);
  });

  it('lets only as many concurrent creations through as the limit allows', async () => {
    const user = await registerUser(t);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => createUpload(t, user.access_token, { size: 100 })),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 201, 429, 429, 429, 429]);
    assert.equal(await videoCount(t, user.id), 2);
  });

  it('a one-request upload holds its room before it streams: a second one cannot take it too', async () => {
    const user = await registerUser(t);
    const formsDir = path.join(root, 'uploads', 'forms');
    const before = new Set(await fs.readdir(formsDir).catch(() => []));
    const data = randomBytes(4 * MiB);
    const slow = slowPlainUpload(t, user.access_token, data.length);
    await slow.write(data.subarray(0, MiB));
    await waitFor('the first upload to stream', async () =>
      (await fs.readdir(formsDir).catch(() => [])).some((n) => !before.has(n)),
    );

    // 4 MiB of the 6 MiB quota are held by the upload still streaming.
    const second = await plainUpload(t, user.access_token, randomBytes(4 * MiB));
    assertProblem(second, 413, 'QUOTA_EXCEEDED');
    assert.match(second.body.detail, /2097152/, 'what is left beside the held room');

    await slow.write(data.subarray(MiB));
    slow.end();
    const first = await slow.done;
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const video = await t.app.videos.get(first.body.id);
    assert.equal(video?.source_size, data.length);
    // The room held became the video's size: 2 MiB are left.
    assert.equal((await plainUpload(t, user.access_token, randomBytes(2 * MiB))).status, 201);
    assertProblem(await plainUpload(t, user.access_token, randomBytes(1)), 413, 'QUOTA_EXCEEDED');
  });

  it('a one-request upload that fails gives its room back', async () => {
    const user = await registerUser(t);
    const slow = slowPlainUpload(t, user.access_token, 4 * MiB, true);
    await slow.write(randomBytes(4 * MiB));
    slow.end();
    assertProblem(await slow.done, 400, 'MALFORMED_REQUEST');
    assert.equal((await plainUpload(t, user.access_token, randomBytes(4 * MiB))).status, 201);
    const { rows } = await t.app.database.pool.query(
      'select count(*)::int as n from upload_reservations where owner_id = $1',
      [user.id],
    );
    assert.equal(rows[0].n, 0, 'no reservation stays');
  });
  it('the expiry job frees what a lost upload and a dead reservation held', async () => {
    const user = await registerUser(t);
    const token = user.access_token;
    const lost = await createUpload(t, token, { size: 100 });
    const lostId = lost.headers.get('vireo-video-id')!;
    // Its files are gone (a lost disk, a bug) and it started two days ago: nothing will finish it.
    await fs.rm(path.join(root, 'uploads', lostId));
    await fs.rm(path.join(root, 'uploads', `${lostId}.json`));
    const pool = t.app.database.pool;
    await pool.query("update videos set created_at = now() - interval '2 days' where id = $1", [lostId]);
    // A one-request upload whose node died while it streamed: its reservation is past its time.
    await pool.query(
      `insert into upload_reservations (id, owner_id, bytes, expires_at)
       values (gen_random_uuid(), $1, $2, now() - interval '1 minute')`,
      [user.id, 4 * MiB],
    );
    assert.equal(
      (await createUpload(t, token, { size: 4 * MiB })).status,
      201,
      'a dead reservation takes nothing',
    );
    assertProblem(await createUpload(t, token, { size: 100 }), 429, 'TOO_MANY_UPLOADS');

    const job = t.app.jobs.get(expireUploadsJobName);
    const ctx = { jobId: '1', attempts: 1, maxAttempts: 1, signal: new AbortController().signal };
    assert.equal(await job!.handler({}, ctx), 'done');
    const video = await t.app.videos.get(lostId);
    assert.equal(video?.status, 'failed');
    assert.equal(video?.failure_code, 'UPLOAD_EXPIRED');
    assert.equal((await createUpload(t, token, { size: 100 })).status, 201);
    const { rows } = await pool.query(
      'select count(*)::int as n from upload_reservations where owner_id = $1',
      [user.id],
    );
    assert.equal(rows[0].n, 0);
  });
});
