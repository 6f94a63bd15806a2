// The tus checksum extension: a PATCH (or a creation with upload) that carries Upload-Checksum is kept
// only if its body matches; a mismatch answers 460 and leaves the upload exactly as it was.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { assertProblem } from './helpers/problems.ts';
import { createUpload, headUpload, openPatch, patchUpload, TUS_VERSION, tusFetch } from './helpers/tus.ts';

const checksum = (algorithm: string, body: Buffer) =>
  `${algorithm} ${createHash(algorithm).update(body).digest('base64')}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tus checksum extension', () => {
  let t: TestApp;
  let root: string;
  let uploadDir: string;
  let token: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-checksum-'));
    uploadDir = path.join(root, 'uploads');
    t = await startTestApp(
      { UPLOAD_DIR: uploadDir, STORAGE_DIR: path.join(root, 'storage') },
      { role: 'api' },
    );
    token = (await registerUser(t)).access_token;
  });
  after(async () => {
    await t.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  async function newUpload(size: number) {
    const created = await createUpload(t, token, { size });
    assert.equal(created.status, 201);
    return { location: created.headers.get('location')!, id: created.headers.get('vireo-video-id')! };
  }

  const offsetOf = async (location: string) =>
    Number((await headUpload(t, token, location)).headers.get('upload-offset'));
  const bytesOnDisk = async (id: string) => (await fs.stat(path.join(uploadDir, id))).size;

  it('OPTIONS lists the extension and its algorithms, sha1 among them', async () => {
    const res = await tusFetch(t, 'OPTIONS', '/api/v1/uploads', { headers: { 'tus-resumable': '' } });
    assert.equal(res.status, 204);
    assert.ok(res.headers.get('tus-extension')?.split(',').includes('checksum'));
    const algorithms = res.headers.get('tus-checksum-algorithm')?.split(',');
    assert.ok(algorithms?.includes('sha1'), `sha1 in ${algorithms}`);
  });

  it('keeps a chunk whose sha1 matches, refuses one that does not with 460, and takes the retry', async () => {
    const data = randomBytes(300_000);
    const { location, id } = await newUpload(data.length);
    const first = data.subarray(0, 100_000);
    const ok = await patchUpload(t, token, location, 0, first, {
      'upload-checksum': checksum('sha1', first),
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('upload-offset'), '100000');

    const second = data.subarray(100_000, 200_000);
    const corrupted = Buffer.from(second);
    corrupted[5000] = (corrupted[5000]! + 1) % 256; // one flipped byte on the way
    const bad = await patchUpload(t, token, location, 100_000, corrupted, {
      'upload-checksum': checksum('sha1', second),
    });
    assertProblem(bad, 460, 'CHECKSUM_MISMATCH');
    assert.equal(bad.headers.get('tus-resumable'), TUS_VERSION);
    assert.equal(await offsetOf(location), 100_000, 'the offset is what it was before the request');
    assert.equal(await bytesOnDisk(id), 100_000, 'none of the refused body is kept');

    const retry = await patchUpload(t, token, location, 100_000, second, {
      'upload-checksum': checksum('sha1', second),
    });
    assert.equal(retry.status, 204);
    assert.equal(retry.headers.get('upload-offset'), '200000');

    // md5 and sha256 work the same way; the last chunk completes the upload.
    const third = data.subarray(200_000);
    for (const algorithm of ['md5', 'sha256']) {
      const wrong = await patchUpload(t, token, location, 200_000, third, {
        'upload-checksum': checksum(algorithm, Buffer.from('something else')),
      });
      assertProblem(wrong, 460, 'CHECKSUM_MISMATCH');
    }
    const last = await patchUpload(t, token, location, 200_000, third, {
      'upload-checksum': checksum('sha256', third),
    });
    assert.equal(last.status, 204);
    assert.equal((await t.app.videos.get(id))?.status, 'uploaded');
    const stored = await t.app.store.get(`sources/${id}/original`);
    const chunks: Buffer[] = [];
    for await (const chunk of stored!.body) chunks.push(chunk as Buffer);
    assert.equal(sha256(Buffer.concat(chunks)), sha256(data));
  });

  it('answers 400 to an algorithm it does not support, and writes nothing', async () => {
    const { location, id } = await newUpload(1000);
    const body = randomBytes(500);
    const res = await patchUpload(t, token, location, 0, body, {
      'upload-checksum': checksum('sha512', body),
    });
    assertProblem(res, 400, 'CHECKSUM_ALGORITHM_UNSUPPORTED');
    assert.deepEqual(
      res.body.errors.map((e: { field: string }) => e.field),
      ['Upload-Checksum'],
    );
    assert.ok(res.headers.get('tus-checksum-algorithm')?.includes('sha1'));
    assert.equal(await offsetOf(location), 0);
    assert.equal(await bytesOnDisk(id), 0);
  });

  it('answers 400 naming the header when it is malformed', async () => {
    const { location } = await newUpload(1000);
    const body = randomBytes(10);
    for (const header of [
      'sha1',
      'sha1 not*base64',
      `sha1 ${Buffer.alloc(8).toString('base64')}`,
      'sha1 a b',
    ]) {
      const res = await patchUpload(t, token, location, 0, body, { 'upload-checksum': header });
      assertProblem(res, 400, 'VALIDATION_FAILED');
      assert.equal(res.body.errors[0].field, 'Upload-Checksum', header);
    }
    assert.equal(await offsetOf(location), 0);
  });

  it('keeps nothing of a checksummed body that is cut off halfway', async () => {
    const { location, id } = await newUpload(200_000);
    const body = randomBytes(200_000);
    const req = openPatch(t, token, location, 0, body.length, {
      'upload-checksum': checksum('sha1', body),
    });
    req.on('response', (res) => res.resume());
    await new Promise<void>((resolve) => req.write(body.subarray(0, 120_000), () => resolve()));
    // Wait until the bytes sent reached the file, then drop the connection.
    for (let i = 0; i < 250 && (await bytesOnDisk(id)) < 120_000; i++) await sleep(20);
    assert.equal(await bytesOnDisk(id), 120_000, 'what was sent reached the file before the cut');
    req.destroy();
    for (let i = 0; i < 250 && (await bytesOnDisk(id)) > 0; i++) await sleep(20);
    assert.equal(await bytesOnDisk(id), 0, 'the partial body was cut back');
    assert.equal(await offsetOf(location), 0);
    const again = await patchUpload(t, token, location, 0, body, {
      'upload-checksum': checksum('sha1', body),
    });
    assert.equal(again.status, 204);
  });

  it('checks the first bytes of a creation with upload; a mismatch leaves an empty upload to resume', async () => {
    const data = randomBytes(50_000);
    const bad = await createUpload(t, token, {
      size: data.length,
      body: data,
      headers: { 'upload-checksum': checksum('sha1', Buffer.from('other bytes')) },
    });
    assertProblem(bad, 460, 'CHECKSUM_MISMATCH');
    const location = bad.headers.get('location');
    assert.ok(location, 'the upload it created is named');
    assert.equal(await offsetOf(location), 0);
    const resumed = await patchUpload(t, token, location, 0, data, {
      'upload-checksum': checksum('sha1', data),
    });
    assert.equal(resumed.status, 204);

    const good = await createUpload(t, token, {
      size: data.length,
      body: data,
      headers: { 'upload-checksum': checksum('sha1', data) },
    });
    assert.equal(good.status, 201);
    assert.equal(good.headers.get('upload-offset'), String(data.length));
  });
});
