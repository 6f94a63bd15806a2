// Uploads under attack and bad input, through the real server: tus acts only on the upload the route
// authorised, whatever the query string says; every tus error is problem+json with a code; bad metadata,
// deferred lengths and broken multipart bodies get 4xx answers, never 500.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiResponse, readResponse, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';
import {
  createUpload,
  headUpload,
  OFFSET_STREAM,
  patchUpload,
  TUS_VERSION,
  tusFetch,
  tusMetadata,
} from './helpers/tus.ts';

const KiB = 1024;

/** A tus error answer: problem+json with the code, and the protocol version as every tus answer has. */
function assertTusProblem(res: ApiResponse, status: number, code: string): void {
  assertProblem(res, status, code);
  assert.equal(res.headers.get('tus-resumable'), TUS_VERSION);
}

/** A POST of a raw body to the multipart upload route, Content-Length exact. */
function rawPost(t: TestApp, token: string, body: Buffer, contentType: string): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${t.url}/api/v1/videos/upload`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': contentType,
        'content-length': String(body.length),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => resolve(readResponse(res)));
    req.end(body);
  });
}

async function videoCount(t: TestApp, ownerId: string): Promise<number> {
  const { rows } = await t.app.database.pool.query(
    'select count(*)::int as n from videos where owner_id = $1',
    [ownerId],
  );
  return rows[0].n;
}

describe('tus acts on the authorised upload only', () => {
  let t: TestApp;
  let root: string;
  let uploadDir: string;
  let victim: string;
  let attacker: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-hardening-'));
    uploadDir = path.join(root, 'uploads');
    t = await startTestApp(
      { UPLOAD_DIR: uploadDir, STORAGE_DIR: path.join(root, 'storage') },
      { role: 'api' },
    );
    victim = (await registerUser(t)).access_token;
    attacker = (await registerUser(t)).access_token;
  });
  after(async () => {
    await t.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  /** The victim's upload with 10 bytes in it, and the attacker's own empty one. */
  async function twoUploads() {
    const mine = await createUpload(t, victim, {
      size: 100,
      metadata: { filename: 'secret-plans.mp4', title: 'Secret plans' },
    });
    const victimId = mine.headers.get('vireo-video-id')!;
    const victimBytes = Buffer.alloc(10, 'v');
    assert.equal((await patchUpload(t, victim, mine.headers.get('location')!, 0, victimBytes)).status, 204);
    const theirs = await createUpload(t, attacker, { size: 50, metadata: { filename: 'decoy.mp4' } });
    const attackerId = theirs.headers.get('vireo-video-id')!;
    return { victimId, victimBytes, attackerId, crafted: `/api/v1/uploads/${attackerId}?/${victimId}` };
  }

  async function assertUntouched(victimId: string, bytes: Buffer) {
    assert.deepEqual(
      await fs.readFile(path.join(uploadDir, victimId)),
      bytes,
      "the victim's bytes are as sent",
    );
    const head = await headUpload(t, victim, `/api/v1/uploads/${victimId}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('upload-offset'), String(bytes.length));
    assert.equal((await t.app.videos.get(victimId))?.status, 'uploading');
  }

  it("HEAD with another upload's id in the query string answers about the caller's own upload", async () => {
    const { victimId, victimBytes, crafted } = await twoUploads();
    const res = await headUpload(t, attacker, crafted);
    const leaked = Buffer.from('secret-plans.mp4').toString('base64');
    assert.doesNotMatch(res.headers.get('upload-metadata') ?? '', new RegExp(leaked), 'no victim metadata');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('upload-offset'), '0', "the attacker's own offset");
    assert.equal(res.headers.get('upload-length'), '50', "the attacker's own length");
    await assertUntouched(victimId, victimBytes);
  });

  it("PATCH with another upload's id in the query string never writes into it", async () => {
    const { victimId, victimBytes, attackerId, crafted } = await twoUploads();
    const res = await patchUpload(t, attacker, crafted, 10, Buffer.alloc(20, 'x'));
    // The offset is the victim's, not the attacker's own upload's: tus refuses it there.
    assertTusProblem(res, 409, 'UPLOAD_OFFSET_MISMATCH');
    await assertUntouched(victimId, victimBytes);
    // At the attacker's own offset, the bytes go to the attacker's own upload.
    assert.equal((await patchUpload(t, attacker, crafted, 0, Buffer.alloc(20, 'x'))).status, 204);
    assert.deepEqual(await fs.readFile(path.join(uploadDir, attackerId)), Buffer.alloc(20, 'x'));
    await assertUntouched(victimId, victimBytes);
  });

  it("DELETE with another upload's id in the query string terminates only the caller's own", async () => {
    const { victimId, victimBytes, attackerId, crafted } = await twoUploads();
    const res = await tusFetch(t, 'DELETE', crafted, { token: attacker });
    assert.equal(res.status, 204);
    await assertUntouched(victimId, victimBytes);
    assert.equal((await t.app.videos.get(attackerId))?.status, 'failed');
    const left = (await fs.readdir(uploadDir)).filter((n) => n.startsWith(attackerId));
    assert.deepEqual(left, [], "the attacker's own upload is gone");
  });

  it('an unexpected query string does not break a legitimate request', async () => {
    const created = await createUpload(t, victim, { size: 20 });
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    const head = await headUpload(t, victim, `${location}?x=1`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('upload-offset'), '0');
    const patch = await patchUpload(t, victim, `${location}?x=1`, 0, Buffer.alloc(20, 'a'));
    assert.equal(patch.status, 204);
    assert.equal(patch.headers.get('upload-offset'), '20');
    assert.equal((await t.app.videos.get(id))?.status, 'uploaded');
    const other = await createUpload(t, victim, { size: 20 });
    const del = await tusFetch(t, 'DELETE', `${other.headers.get('location')}?x=1`, { token: victim });
    assert.equal(del.status, 204);
    assert.equal((await t.app.videos.get(other.headers.get('vireo-video-id')!))?.status, 'failed');
  });
});

describe('tus errors are problems', () => {
  let t: TestApp;
  let root: string;
  let uploadDir: string;
  let token: string;
  let userId: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-hardening-'));
    uploadDir = path.join(root, 'uploads');
    t = await startTestApp(
      {
        UPLOAD_DIR: uploadDir,
        STORAGE_DIR: path.join(root, 'storage'),
        UPLOAD_MAX_BYTES: String(64 * KiB),
        UPLOAD_QUOTA_BYTES: String(100 * KiB),
      },
      { role: 'api' },
    );
    const user = await registerUser(t);
    token = user.access_token;
    userId = user.id;
  });
  after(async () => {
    await t.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  async function newUpload(size = 100) {
    const created = await createUpload(t, token, { size });
    assert.equal(created.status, 201);
    return { location: created.headers.get('location')!, id: created.headers.get('vireo-video-id')! };
  }

  it('a missing or invalid Upload-Offset is 400 UPLOAD_OFFSET_INVALID', async () => {
    const { location } = await newUpload();
    const missing = await tusFetch(t, 'PATCH', location, {
      token,
      body: Buffer.alloc(10),
      headers: { 'content-type': OFFSET_STREAM },
    });
    assertTusProblem(missing, 400, 'UPLOAD_OFFSET_INVALID');
    for (const bad of ['abc', '-1', '1.5', '']) {
      const res = await patchUpload(t, token, location, 0, Buffer.alloc(10), { 'upload-offset': bad });
      assertTusProblem(res, 400, 'UPLOAD_OFFSET_INVALID');
      assert.deepEqual(
        res.body.errors.map((e: { field: string }) => e.field),
        ['Upload-Offset'],
      );
    }
    assert.equal((await headUpload(t, token, location)).headers.get('upload-offset'), '0');
  });

  it('an offset that is not the upload’s is 409 UPLOAD_OFFSET_MISMATCH', async () => {
    const { location } = await newUpload();
    assert.equal((await patchUpload(t, token, location, 0, Buffer.alloc(10))).status, 204);
    const res = await patchUpload(t, token, location, 5, Buffer.alloc(10));
    assertTusProblem(res, 409, 'UPLOAD_OFFSET_MISMATCH');
  });

  it('a body past the upload’s length is 413 UPLOAD_LENGTH_EXCEEDED', async () => {
    const { location } = await newUpload(10);
    const res = await patchUpload(t, token, location, 0, Buffer.alloc(11));
    assertTusProblem(res, 413, 'UPLOAD_LENGTH_EXCEEDED');
    assert.equal((await headUpload(t, token, location)).headers.get('upload-offset'), '0');
    const before = await videoCount(t, userId);
    const created = await createUpload(t, token, { size: 10, body: Buffer.alloc(11) });
    assertTusProblem(created, 413, 'UPLOAD_LENGTH_EXCEEDED');
    assert.equal(await videoCount(t, userId), before, 'no upload was made');
  });

  it('an upload whose files are gone is 404 UPLOAD_NOT_FOUND, an expired one 410 UPLOAD_GONE', async () => {
    const lost = await newUpload();
    await fs.rm(path.join(uploadDir, `${lost.id}.json`));
    assertTusProblem(
      await patchUpload(t, token, lost.location, 0, Buffer.alloc(10)),
      404,
      'UPLOAD_NOT_FOUND',
    );
    const head = await headUpload(t, token, lost.location);
    assert.equal(head.status, 404);
    assert.match(head.headers.get('content-type') ?? '', /^application\/problem\+json/);

    const old = await newUpload();
    const record = path.join(uploadDir, `${old.id}.json`);
    const info = JSON.parse(await fs.readFile(record, 'utf8'));
    info.creation_date = new Date(Date.now() - 2 * 86_400_000).toISOString();
    await fs.writeFile(record, JSON.stringify(info));
    assertTusProblem(await patchUpload(t, token, old.location, 0, Buffer.alloc(10)), 410, 'UPLOAD_GONE');
    const gone = await headUpload(t, token, old.location);
    assert.equal(gone.status, 410);
    assert.match(gone.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });

  it('invalid tus headers name the field', async () => {
    const noLength = await tusFetch(t, 'POST', '/api/v1/uploads', {
      token,
      headers: { 'upload-metadata': tusMetadata({ filename: 'a.mp4' }) },
    });
    assertTusProblem(noLength, 400, 'VALIDATION_FAILED');
    assert.deepEqual(badFields(noLength), ['Upload-Length']);
    const negative = await createUpload(t, token, { size: -1 });
    assertTusProblem(negative, 400, 'VALIDATION_FAILED');
    assert.deepEqual(badFields(negative), ['Upload-Length']);
    const both = await createUpload(t, token, { size: 10, headers: { 'upload-defer-length': '1' } });
    assertTusProblem(both, 400, 'VALIDATION_FAILED');
    const defer = await createUpload(t, token, { size: 10, headers: { 'upload-defer-length': '2' } });
    assertTusProblem(defer, 400, 'VALIDATION_FAILED');
    const { location } = await newUpload();
    const proto = await patchUpload(t, token, location, 0, Buffer.alloc(10), { 'x-forwarded-proto': 'ftp' });
    assertTusProblem(proto, 400, 'VALIDATION_FAILED');
  });

  it('an extension Vireo does not speak is refused with TUS_EXTENSION_UNSUPPORTED', async () => {
    const res = await createUpload(t, token, { size: 10, headers: { 'upload-concat': 'partial' } });
    assertTusProblem(res, 400, 'TUS_EXTENSION_UNSUPPORTED');
  });
});

describe('uploads refuse bad input with 4xx', () => {
  let t: TestApp;
  let root: string;
  let uploadDir: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-hardening-'));
    uploadDir = path.join(root, 'uploads');
    t = await startTestApp(
      {
        UPLOAD_DIR: uploadDir,
        STORAGE_DIR: path.join(root, 'storage'),
        UPLOAD_MAX_BYTES: String(64 * KiB),
        UPLOAD_QUOTA_BYTES: String(100 * KiB),
      },
      { role: 'api' },
    );
  });
  after(async () => {
    await t.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('a NUL character in the filename or title metadata is 400 VALIDATION_FAILED', async () => {
    const { access_token: token, id } = await registerUser(t);
    const name = await createUpload(t, token, { size: 10, metadata: { filename: 'a\u0000b.mp4' } });
    assertTusProblem(name, 400, 'VALIDATION_FAILED');
    assert.deepEqual(badFields(name), ['filename']);
    const title = await createUpload(t, token, {
      size: 10,
      metadata: { filename: 'a.mp4', title: 'x\u0000' },
    });
    assertTusProblem(title, 400, 'VALIDATION_FAILED');
    assert.deepEqual(badFields(title), ['title']);
    const form = `--b\r\nContent-Disposition: form-data; name="file"; filename="a\u0000.mp4"\r\n\r\nabc\r\n--b--\r\n`;
    const plain = await rawPost(t, token, Buffer.from(form), 'multipart/form-data; boundary=b');
    assertProblem(plain, 400, 'VALIDATION_FAILED');
    assert.equal(await videoCount(t, id), 0);
  });

  it('creation-defer-length: the length arrives in a later PATCH, within the size limit and the quota', async () => {
    const user = await registerUser(t);
    const token = user.access_token;
    const data = randomBytes(30 * KiB);
    const created = await tusFetch(t, 'POST', '/api/v1/uploads', {
      token,
      headers: { 'upload-defer-length': '1', 'upload-metadata': tusMetadata({ filename: 'stream.webm' }) },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const options = await tusFetch(t, 'OPTIONS', '/api/v1/uploads');
    assert.ok(options.headers.get('tus-extension')?.split(',').includes('creation-defer-length'));
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    const head = await headUpload(t, token, location);
    assert.equal(head.headers.get('upload-defer-length'), '1');
    assert.equal((await patchUpload(t, token, location, 0, data.subarray(0, 10 * KiB))).status, 204);
    const last = await patchUpload(t, token, location, 10 * KiB, data.subarray(10 * KiB), {
      'upload-length': String(data.length),
    });
    assert.equal(last.status, 204, JSON.stringify(last.body));
    const video = await t.app.videos.get(id);
    assert.equal(video?.status, 'uploaded');
    assert.equal(video?.source_size, data.length);

    // While the length is unknown the largest upload allowed is reserved; no byte may go past it.
    const open = await tusFetch(t, 'POST', '/api/v1/uploads', {
      token,
      headers: { 'upload-defer-length': '1', 'upload-metadata': tusMetadata({ filename: 'b.webm' }) },
    });
    assert.equal(open.status, 201);
    const openLocation = open.headers.get('location')!;
    const over = await patchUpload(t, token, openLocation, 0, Buffer.alloc(64 * KiB + 1));
    assertTusProblem(over, 413, 'UPLOAD_TOO_LARGE');
    const tooLong = await patchUpload(t, token, openLocation, 0, Buffer.alloc(0), {
      'upload-length': String(64 * KiB + 1),
    });
    assertTusProblem(tooLong, 413, 'UPLOAD_TOO_LARGE');
    // A declared length frees what was reserved beyond it.
    const declared = await patchUpload(t, token, openLocation, 0, Buffer.alloc(KiB), {
      'upload-length': '2048',
    });
    assert.equal(declared.status, 204);
    assert.equal((await t.app.videos.get(open.headers.get('vireo-video-id')!))?.source_size, 2048);
    const again = await patchUpload(t, token, openLocation, KiB, Buffer.alloc(0), {
      'upload-length': '4096',
    });
    assertTusProblem(again, 400, 'VALIDATION_FAILED');
    // 30 + 2 KiB taken of 100: 68 KiB left, more than one upload may be.
    assert.equal((await createUpload(t, token, { size: 64 * KiB })).status, 201);
    const before = await videoCount(t, user.id);
    const overFirst = await tusFetch(t, 'POST', '/api/v1/uploads', {
      token,
      body: Buffer.alloc(4 * KiB + 1),
      headers: {
        'upload-defer-length': '1',
        'upload-metadata': tusMetadata({ filename: 'c.webm' }),
        'content-type': OFFSET_STREAM,
      },
    });
    assertTusProblem(overFirst, 413, 'QUOTA_EXCEEDED');
    assert.equal(await videoCount(t, user.id), before, 'no upload was made');
    const full = await tusFetch(t, 'POST', '/api/v1/uploads', {
      token,
      headers: { 'upload-defer-length': '1', 'upload-metadata': tusMetadata({ filename: 'c.webm' }) },
    });
    assert.equal(full.status, 201, 'what is left (4 KiB) is reserved');
    const past = await patchUpload(t, token, full.headers.get('location')!, 0, Buffer.alloc(4 * KiB + 1));
    assertTusProblem(past, 413, 'QUOTA_EXCEEDED');
    const none = await tusFetch(t, 'POST', '/api/v1/uploads', {
      token,
      headers: { 'upload-defer-length': '1', 'upload-metadata': tusMetadata({ filename: 'd.webm' }) },
    });
    assertTusProblem(none, 413, 'QUOTA_EXCEEDED');
  });

  it('a malformed or truncated multipart body is 400 MALFORMED_REQUEST, leaving nothing behind', async () => {
    const { access_token: token, id } = await registerUser(t);
    const head = '--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n';
    const form = 'multipart/form-data; boundary=b';
    const cases: Array<[string, Buffer, string, string]> = [
      ['truncated', Buffer.concat([Buffer.from(head), randomBytes(5000)]), form, 'MALFORMED_REQUEST'],
      ['no boundary', Buffer.from(`${head}abc\r\n--b--\r\n`), 'multipart/form-data', 'MALFORMED_REQUEST'],
      [
        'another boundary',
        Buffer.from(`${head}abc\r\n--b--\r\n`),
        'multipart/form-data; boundary=zzz',
        'MALFORMED_REQUEST',
      ],
      // The parser skips a part it cannot read: the form has no file then.
      [
        'bad part header',
        Buffer.from('--b\r\nContent-Disposition form-data\r\n\r\nabc\r\n--b--\r\n'),
        form,
        'VALIDATION_FAILED',
      ],
    ];
    for (const [what, body, type, code] of cases) {
      const res = await rawPost(t, token, body, type);
      assert.equal(res.body?.code, code, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assertProblem(res, 400, code);
    }
    assert.equal(await videoCount(t, id), 0);
    assert.deepEqual(await fs.readdir(path.join(uploadDir, 'forms')).catch(() => []), []);
  });
});
