// tus 1.0 uploads through the real server: creation registers the video, an upload cut off halfway
// resumes (also on a restarted app), completion stores the source and schedules processing once.
// The apps run the `api` role: no worker picks the processing job, so its row stays to be counted.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { expireUploadsJobName } from '../src/modules/uploads/index.ts';
import { registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { eventsDelivered } from './helpers/events.ts';
import { assertProblem } from './helpers/problems.ts';
import {
  createUpload,
  headUpload,
  interruptedPatch,
  patchUpload,
  TUS_VERSION,
  tusFetch,
} from './helpers/tus.ts';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function dirs() {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-uploads-'));
  return { root, UPLOAD_DIR: path.join(root, 'uploads'), STORAGE_DIR: path.join(root, 'storage') };
}

/**
 * Processing jobs scheduled for a video, once every event committed so far has reached its subscribers
 * (processing is scheduled by the transcoding module when it hears of the upload).
 */
async function processJobs(t: TestApp, videoId: string): Promise<number> {
  await eventsDelivered(t);
  // The jobs view hides payloads: graphile-worker's own tables have them.
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from graphile_worker._private_jobs j
    join graphile_worker._private_tasks k on k.id = j.task_id
    where k.identifier = 'transcoding.process_video' and j.payload->>'videoId' = ${videoId}`.execute(
    t.app.database.db,
  );
  return rows[0]!.n;
}

/** The stored source, read back whole. */
async function storedSource(t: TestApp, videoId: string): Promise<Buffer> {
  const got = await t.app.store.get(`sources/${videoId}/original`);
  assert.ok(got, 'the source is in the object store');
  const chunks: Buffer[] = [];
  for await (const chunk of got.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function waitFor(what: string, probe: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function uploadFiles(dir: string, id: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(id));
}

describe('tus uploads', () => {
  let t: TestApp;
  let d: Awaited<ReturnType<typeof dirs>>;
  let token: string;
  before(async () => {
    d = await dirs();
    t = await startTestApp(
      { UPLOAD_DIR: d.UPLOAD_DIR, STORAGE_DIR: d.STORAGE_DIR, UPLOAD_MAX_BYTES: String(4 * MiB) },
      { role: 'api' },
    );
    token = (await registerUser(t)).access_token;
  });
  after(async () => {
    await t.stop();
    await fs.rm(d.root, { recursive: true, force: true });
  });

  /** What a crash between the move and the commit leaves: the record sealed, the bytes in the store. */
  async function leaveCompletionCutShort(id: string, rest: Buffer, size: number, createdAt?: Date) {
    await fs.appendFile(path.join(d.UPLOAD_DIR, id), rest);
    const record = path.join(d.UPLOAD_DIR, `${id}.json`);
    const info = JSON.parse(await fs.readFile(record, 'utf8'));
    info.offset = size;
    if (createdAt) info.creation_date = createdAt.toISOString();
    await fs.writeFile(record, JSON.stringify(info));
    await t.app.store.putFile(`sources/${id}/original`, path.join(d.UPLOAD_DIR, id), { move: true });
  }

  it('OPTIONS answers the version, extensions and largest size, without a token', async () => {
    const res = await tusFetch(t, 'OPTIONS', '/api/v1/uploads', { headers: { 'tus-resumable': '' } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('tus-version'), TUS_VERSION);
    assert.deepEqual(res.headers.get('tus-extension')?.split(',').sort(), [
      'checksum',
      'creation',
      'creation-defer-length',
      'creation-with-upload',
      'expiration',
      'termination',
    ]);
    assert.deepEqual(res.headers.get('tus-checksum-algorithm')?.split(','), ['sha1', 'md5', 'sha256']);
    assert.equal(res.headers.get('tus-max-size'), String(4 * MiB));
  });

  it('creation registers an uploading video and answers Location and Vireo-Video-Id', async () => {
    const res = await createUpload(t, token, { size: 1000, metadata: { filename: 'Holiday in Rome.mp4' } });
    assert.equal(res.status, 201);
    const id = res.headers.get('vireo-video-id')!;
    assert.equal(res.headers.get('location'), `/api/v1/uploads/${id}`);
    assert.equal(res.headers.get('tus-resumable'), TUS_VERSION);
    assert.ok(Date.parse(res.headers.get('upload-expires')!) > Date.now(), 'Upload-Expires is ahead');
    const video = await t.app.videos.get(id);
    assert.equal(video?.status, 'uploading');
    assert.equal(video?.title, 'Holiday in Rome');
    assert.equal(video?.source_filename, 'Holiday in Rome.mp4');
    assert.equal(video?.source_size, 1000);
  });

  it('takes the title from the metadata', async () => {
    const res = await createUpload(t, token, { size: 10, metadata: { filename: 'a.mov', title: 'My trip' } });
    assert.equal(res.status, 201);
    assert.equal((await t.app.videos.get(res.headers.get('vireo-video-id')!))?.title, 'My trip');
  });

  it('refuses metadata without a filename, naming the field', async () => {
    const res = await createUpload(t, token, { size: 10, metadata: { title: 'no name' } });
    assertProblem(res, 400, 'VALIDATION_FAILED');
    assert.deepEqual(
      res.body.errors.map((e: { field: string }) => e.field),
      ['filename'],
    );
    const bad = await createUpload(t, token, { size: 10, headers: { 'upload-metadata': 'filename ***' } });
    assertProblem(bad, 400, 'VALIDATION_FAILED');
  });

  it('resumes an upload cut off halfway with HEAD and PATCH, then completes it once', async () => {
    const data = randomBytes(MiB + 123);
    const half = Math.floor(data.length / 2);
    const created = await createUpload(t, token, { size: data.length });
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;

    await interruptedPatch(t, token, location, 0, data.subarray(0, half), data.length);
    const head = await headUpload(t, token, location);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('cache-control'), 'no-store');
    assert.equal(head.headers.get('upload-length'), String(data.length));
    assert.ok(head.headers.get('upload-expires'), 'HEAD tells when the upload expires');
    const offset = Number(head.headers.get('upload-offset'));
    assert.ok(offset > 0 && offset <= half, `offset ${offset} is what arrived before the cut`);
    assert.equal((await t.app.videos.get(id))?.status, 'uploading');

    const done = await patchUpload(t, token, location, offset, data.subarray(offset));
    assert.equal(done.status, 204);
    assert.equal(done.headers.get('upload-offset'), String(data.length));
    assert.equal(done.headers.get('upload-expires'), null, 'a finished upload does not expire');

    const video = await t.app.videos.get(id);
    assert.equal(video?.status, 'uploaded');
    assert.equal(video?.source_key, `sources/${id}/original`);
    assert.equal(sha(await storedSource(t, id)), sha(data));
    assert.equal(await processJobs(t, id), 1);
    await waitFor(
      'the upload folder to keep nothing of it',
      async () => !(await uploadFiles(d.UPLOAD_DIR, id)).length,
    );

    // A client that asks again learns that the upload is whole; more bytes are refused.
    const again = await headUpload(t, token, location);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('upload-offset'), String(data.length));
    assertProblem(
      await patchUpload(t, token, location, data.length, Buffer.alloc(1)),
      409,
      'UPLOAD_FINISHED',
    );

    // A repeated completion changes nothing and schedules nothing more.
    await t.app.services.uploads.complete(id, path.join(d.UPLOAD_DIR, id), data.length);
    assert.equal(await processJobs(t, id), 1);
    assert.equal((await t.app.videos.get(id))?.status, 'uploaded');
  });

  it('a completion cut short between moving the file and the commit is finished by the next HEAD', async () => {
    const data = randomBytes(1000);
    const created = await createUpload(t, token, { size: data.length });
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    assert.equal((await patchUpload(t, token, location, 0, data.subarray(0, 400))).status, 204);
    await leaveCompletionCutShort(id, data.subarray(400), 1000);
    assert.equal((await t.app.videos.get(id))?.status, 'uploading');

    const head = await headUpload(t, token, location);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('upload-offset'), '1000');
    assert.equal((await t.app.videos.get(id))?.status, 'uploaded');
    assert.equal(await processJobs(t, id), 1);
    assert.deepEqual(await uploadFiles(d.UPLOAD_DIR, id), []);
  });

  it('creation-with-upload stores the first bytes, or the whole file at once', async () => {
    const data = randomBytes(300_000);
    const partial = await createUpload(t, token, { size: data.length, body: data.subarray(0, 100_000) });
    assert.equal(partial.status, 201);
    assert.equal(partial.headers.get('upload-offset'), '100000');
    const rest = await patchUpload(
      t,
      token,
      partial.headers.get('location')!,
      100_000,
      data.subarray(100_000),
    );
    assert.equal(rest.status, 204);
    const partialId = partial.headers.get('vireo-video-id')!;
    assert.equal((await t.app.videos.get(partialId))?.status, 'uploaded');
    assert.equal(sha(await storedSource(t, partialId)), sha(data));

    const whole = await createUpload(t, token, { size: data.length, body: data });
    assert.equal(whole.status, 201);
    assert.equal(whole.headers.get('upload-offset'), String(data.length));
    const id = whole.headers.get('vireo-video-id')!;
    assert.equal((await t.app.videos.get(id))?.status, 'uploaded');
    assert.equal(await processJobs(t, id), 1);
  });

  it('answers 409 to a PATCH at the wrong offset and keeps the upload as it was', async () => {
    const created = await createUpload(t, token, { size: 100 });
    const location = created.headers.get('location')!;
    assert.equal((await patchUpload(t, token, location, 0, Buffer.alloc(10))).status, 204);
    const res = await patchUpload(t, token, location, 5, Buffer.alloc(10));
    assertProblem(res, 409, 'UPLOAD_OFFSET_MISMATCH');
    assert.equal((await headUpload(t, token, location)).headers.get('upload-offset'), '10');
  });

  it('answers 412 with Tus-Version to an unsupported or missing Tus-Resumable', async () => {
    const created = await createUpload(t, token, { size: 100 });
    const location = created.headers.get('location')!;
    const wrong = await createUpload(t, token, { size: 100, headers: { 'tus-resumable': '0.2.2' } });
    assertProblem(wrong, 412, 'TUS_VERSION_UNSUPPORTED');
    assert.equal(wrong.headers.get('tus-version'), TUS_VERSION);
    const missing = await patchUpload(t, token, location, 0, Buffer.alloc(10), { 'tus-resumable': '' });
    assertProblem(missing, 412, 'TUS_VERSION_UNSUPPORTED');
    assert.equal((await headUpload(t, token, location)).headers.get('upload-offset'), '0');
  });

  it('answers 415 to a PATCH that is not application/offset+octet-stream', async () => {
    const created = await createUpload(t, token, { size: 100 });
    const location = created.headers.get('location')!;
    const res = await patchUpload(t, token, location, 0, Buffer.from('{"a":1}'), {
      'content-type': 'application/json',
    });
    assertProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal(res.headers.get('tus-resumable'), TUS_VERSION);
    assert.equal((await headUpload(t, token, location)).headers.get('upload-offset'), '0');
  });

  it('refuses an upload larger than the limit, up front', async () => {
    const user = await registerUser(t);
    const res = await createUpload(t, user.access_token, { size: 4 * MiB + 1 });
    assertProblem(res, 413, 'UPLOAD_TOO_LARGE');
    assert.equal(res.headers.get('tus-max-size'), String(4 * MiB));
    assert.equal(res.headers.get('location'), null);
  });

  it('needs a token for everything but OPTIONS', async () => {
    const created = await createUpload(t, token, { size: 100 });
    const location = created.headers.get('location')!;
    assertProblem(await createUpload(t, '', { size: 10 }), 401, 'TOKEN_MISSING');
    assertProblem(await patchUpload(t, '', location, 0, Buffer.alloc(10)), 401, 'TOKEN_MISSING');
    assertProblem(await tusFetch(t, 'DELETE', location), 401, 'TOKEN_MISSING');
    assert.equal((await tusFetch(t, 'HEAD', location)).status, 401);
  });

  it("refuses another user's HEAD, PATCH and DELETE without telling the upload exists", async () => {
    const created = await createUpload(t, token, { size: 100 });
    const location = created.headers.get('location')!;
    const other = (await registerUser(t)).access_token;
    assert.equal((await headUpload(t, other, location)).status, 404);
    assertProblem(await patchUpload(t, other, location, 0, Buffer.alloc(10)), 404, 'UPLOAD_NOT_FOUND');
    assertProblem(await tusFetch(t, 'DELETE', location, { token: other }), 404, 'UPLOAD_NOT_FOUND');
    assert.equal((await headUpload(t, token, location)).headers.get('upload-offset'), '0');
    assert.equal((await headUpload(t, token, '/api/v1/uploads/not-an-id')).status, 404);
  });

  it('DELETE terminates the upload: its files go and its video fails', async () => {
    const created = await createUpload(t, token, { size: 100 });
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    await patchUpload(t, token, location, 0, Buffer.alloc(10));
    const res = await tusFetch(t, 'DELETE', location, { token });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('tus-resumable'), TUS_VERSION);
    assert.deepEqual(await uploadFiles(d.UPLOAD_DIR, id), []);
    const video = await t.app.videos.get(id);
    assert.equal(video?.status, 'failed');
    assert.equal(video?.failure_code, 'UPLOAD_TERMINATED');
    assert.equal((await headUpload(t, token, location)).status, 410);
    assertProblem(await patchUpload(t, token, location, 10, Buffer.alloc(10)), 410, 'UPLOAD_GONE');
  });

  it('the expiry job removes an expired upload and fails its video', async () => {
    const created = await createUpload(t, token, { size: 100 });
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    await patchUpload(t, token, location, 0, Buffer.alloc(10));
    const fresh = await createUpload(t, token, { size: 100 });
    const freshId = fresh.headers.get('vireo-video-id')!;
    const whole = await createUpload(t, token, { size: 100 });
    const wholeId = whole.headers.get('vireo-video-id')!;
    await leaveCompletionCutShort(wholeId, Buffer.alloc(100), 100, new Date(Date.now() - 2 * 86_400_000));
    // Shift time: the upload was created a day ago, longer than UPLOAD_EXPIRY_SECONDS.
    const record = path.join(d.UPLOAD_DIR, `${id}.json`);
    const info = JSON.parse(await fs.readFile(record, 'utf8'));
    info.creation_date = new Date(Date.now() - 2 * 86_400_000).toISOString();
    await fs.writeFile(record, JSON.stringify(info));
    assert.equal((await headUpload(t, token, location)).status, 410, 'tus refuses an expired upload');

    const job = t.app.jobs.get(expireUploadsJobName);
    assert.equal(job?.cron, '*/15 * * * *');
    const ctx = { jobId: '1', attempts: 1, maxAttempts: 1, signal: new AbortController().signal };
    assert.equal(await job!.handler({}, ctx), 'done');

    assert.deepEqual(await uploadFiles(d.UPLOAD_DIR, id), []);
    const video = await t.app.videos.get(id);
    assert.equal(video?.status, 'failed');
    assert.equal(video?.failure_code, 'UPLOAD_EXPIRED');
    assert.equal((await t.app.videos.get(freshId))?.status, 'uploading', 'a fresh upload stays');
    assert.equal((await uploadFiles(d.UPLOAD_DIR, freshId)).length, 2);
    // All bytes of this one had arrived: it is completed, not expired.
    assert.equal((await t.app.videos.get(wholeId))?.status, 'uploaded');
    assert.equal(await processJobs(t, wholeId), 1);
    assert.deepEqual(await uploadFiles(d.UPLOAD_DIR, wholeId), []);
  });
});

describe('tus upload quota', () => {
  let t: TestApp;
  let d: Awaited<ReturnType<typeof dirs>>;
  before(async () => {
    d = await dirs();
    t = await startTestApp(
      { UPLOAD_DIR: d.UPLOAD_DIR, STORAGE_DIR: d.STORAGE_DIR, UPLOAD_QUOTA_BYTES: String(5 * MiB) },
      { role: 'api' },
    );
  });
  after(async () => {
    await t.stop();
    await fs.rm(d.root, { recursive: true, force: true });
  });

  it('counts unfinished uploads and refuses what does not fit, per user', async () => {
    const user = await registerUser(t);
    assert.equal((await createUpload(t, user.access_token, { size: 3 * MiB })).status, 201);
    const res = await createUpload(t, user.access_token, { size: 3 * MiB });
    assertProblem(res, 413, 'QUOTA_EXCEEDED');
    assert.equal(res.headers.get('vireo-video-id'), null);
    assert.equal((await createUpload(t, user.access_token, { size: 2 * MiB })).status, 201, 'what fits');
    const other = await registerUser(t);
    assert.equal((await createUpload(t, other.access_token, { size: 3 * MiB })).status, 201);
  });
});

describe('tus upload across a restart', () => {
  it('a new app on the same upload folder and database resumes the upload', async () => {
    const d = await dirs();
    const env = { UPLOAD_DIR: d.UPLOAD_DIR, STORAGE_DIR: d.STORAGE_DIR };
    const data = randomBytes(200_000);
    const first = await startTestApp(env, { role: 'api' });
    let second: TestApp | undefined;
    try {
      const { access_token: token } = await registerUser(first);
      const created = await createUpload(first, token, { size: data.length });
      const location = created.headers.get('location')!;
      const id = created.headers.get('vireo-video-id')!;
      assert.equal((await patchUpload(first, token, location, 0, data.subarray(0, 80_000))).status, 204);
      await first.stop({ keepDatabase: true });

      second = await startTestApp(env, { role: 'api' }, { database: first.db });
      const head = await headUpload(second, token, location);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('upload-offset'), '80000');
      assert.equal((await patchUpload(second, token, location, 80_000, data.subarray(80_000))).status, 204);
      assert.equal((await second.app.videos.get(id))?.status, 'uploaded');
      assert.equal(sha(await storedSource(second, id)), sha(data));
      assert.equal(await processJobs(second, id), 1);
    } finally {
      await (second ?? first).stop();
      await fs.rm(d.root, { recursive: true, force: true });
    }
  });
});
