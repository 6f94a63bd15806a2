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
import { expireUploadsJobName } from '../src/modules/uploads/index.ts';
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
