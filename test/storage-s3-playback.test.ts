// A whole Vireo on S3 storage (the local S3 server of scripts/lib/s3-server.ts): an uploaded clip is
// processed into the bucket and played through Vireo; with MEDIA_DELIVERY=redirect its segments are
// fetched from presigned URLs while playlists are still served by Vireo.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LocalS3Server, startS3Server } from '../scripts/lib/s3-server.ts';
import { S3ObjectStore } from '../src/platform/storage/s3-store.ts';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents } from './helpers/sse.ts';

const MEDIA = { LADDER_RUNGS: '240', SEGMENT_SECONDS: '1', ENCODE_PRESET: 'ultrafast' };

describe('playback from S3 storage', () => {
  let s3: LocalS3Server;
  let t: TestApp;
  let clips: string;
  /** The processed video, found by the first test and played by the next. */
  let hls: string;
  let segment: { path: string; bytes: Buffer };

  before(async () => {
    s3 = await startS3Server();
    clips = await tempDir();
    t = await startTestApp({ ...s3.env({ prefix: 'vireo' }), ...MEDIA });
  });
  after(async () => {
    await t?.stop();
    await s3?.stop();
    await fs.rm(clips, { recursive: true, force: true });
  });

  it('processes an upload into the bucket and plays it through Vireo', async () => {
    const creator = await registerUser(t);
    const data = await fs.readFile(await makeClip(clips, 'walk', { width: 320, height: 240, seconds: 2 }));
    const form = new FormData();
    form.append('title', 'A walk');
    form.append('file', new Blob([new Uint8Array(data)], { type: 'video/mp4' }), 'walk.mp4');
    const uploaded = await fetch(`${t.url}/api/v1/videos/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creator.access_token}` },
      body: form,
    });
    assert.equal(uploaded.status, 201);
    const { id } = await uploaded.json();

    const events = await readEvents(`${t.url}/api/v1/videos/${id}/events`, creator.access_token, 170_000);
    assert.equal(events.at(-1)?.event, 'ready', JSON.stringify(events.at(-1)));

    // Everything lives in the bucket, below the prefix: nothing on the local disk.
    const bucket = new S3ObjectStore({
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: s3.bucket,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      forcePathStyle: true,
    });
    const stored = (await bucket.list('vireo/')).map((o) => o.key);
    bucket.destroy();
    assert.ok(
      stored.some((key) => key.startsWith(`vireo/sources/${id}/`)),
      stored.join('\n'),
    );
    assert.ok(stored.some((key) => key.startsWith(`vireo/videos/${id}/`) && key.endsWith('.m4s')));
    await assert.rejects(fs.stat(path.join(t.app.config.dataDir, 'storage')), { code: 'ENOENT' });

    const video = await api(t, 'GET', `/api/v1/videos/${id}`);
    assert.equal(video.body.status, 'ready');
    hls = video.body.playback.hls;
    const master = await fetch(`${t.url}${hls}`);
    assert.equal(master.status, 200);
    assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    const rung = /^(\d+p)\/index\.m3u8$/m.exec(await master.text())![1];
    const base = hls.replace('master.m3u8', `${rung}/`);
    const list = await (await fetch(`${t.url}${base}index.m3u8`)).text();
    const first = /^([^#\s][^?\s]*\.m4s)/m.exec(list)![1];
    const answer = await fetch(`${t.url}${base}${first}`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('cache-control') ?? '', /immutable/);
    segment = { path: `${base}${first}`, bytes: Buffer.from(await answer.arrayBuffer()) };
    assert.ok(segment.bytes.length > 0);
    const part = await fetch(`${t.url}${segment.path}`, { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), segment.bytes.subarray(10, 20));
  });

  it('redirects segments to presigned URLs with MEDIA_DELIVERY=redirect, and serves playlists itself', async () => {
    assert.ok(segment, 'the previous test processed a video');
    // The same database and bucket, served by a Vireo set to redirect.
    const database = t.db;
    await t.stop({ keepDatabase: true });
    t = await startTestApp(
      {
        ...s3.env({ prefix: 'vireo' }),
        ...MEDIA,
        MEDIA_DELIVERY: 'redirect',
        MEDIA_REDIRECT_TTL_SECONDS: '120',
      },
      {},
      { database },
    );

    const redirected = await fetch(`${t.url}${segment.path}`, { redirect: 'manual' });
    assert.equal(redirected.status, 302);
    assert.equal(redirected.headers.get('cache-control'), 'public, max-age=60');
    assert.equal(redirected.headers.get('access-control-allow-origin'), '*');
    const location = redirected.headers.get('location')!;
    assert.ok(location.startsWith(`${s3.endpoint}/${s3.bucket}/vireo/videos/`), location);
    assert.match(location, /X-Amz-Signature=/);
    const direct = await fetch(location);
    assert.equal(direct.status, 200);
    assert.deepEqual(Buffer.from(await direct.arrayBuffer()), segment.bytes);
    // A player follows the redirect on its own.
    const followed = await fetch(`${t.url}${segment.path}`);
    assert.deepEqual(Buffer.from(await followed.arrayBuffer()), segment.bytes);

    // HEAD cannot use a presigned GET: Vireo answers it.
    const head = await fetch(`${t.url}${segment.path}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), segment.bytes.length);

    // Playlists are always Vireo's.
    const master = await fetch(`${t.url}${hls}`, { redirect: 'manual' });
    assert.equal(master.status, 200);
    assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.match(await master.text(), /#EXTM3U/);
  });
});
