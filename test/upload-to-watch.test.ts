// The whole path a creator and a viewer take: resumable upload (cut halfway, resumed), processing by
// the in-process worker with real ffmpeg, progress over SSE, then playback of the ladder.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents } from './helpers/sse.ts';
import { createUpload, headUpload, interruptedPatch, patchUpload } from './helpers/tus.ts';

describe('upload to watch', () => {
  let t: TestApp;
  let clips: string;

  before(async () => {
    t = await startTestApp({ LADDER_RUNGS: '240,360', SEGMENT_SECONDS: '2', ENCODE_PRESET: 'ultrafast' });
    clips = await tempDir();
  });
  after(async () => {
    await t.stop();
    await fs.rm(clips, { recursive: true, force: true });
  });

  it('resumes an interrupted tus upload and plays the result', async () => {
    const creator = await registerUser(t);
    const data = await fs.readFile(await makeClip(clips, 'trip', { width: 640, height: 360, seconds: 4 }));
    const created = await createUpload(t, creator.access_token, {
      size: data.length,
      metadata: { filename: 'trip.mp4', title: 'Our trip' },
    });
    assert.equal(created.status, 201);
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    const registered = await api(t, 'GET', `/api/v1/videos/${id}`, { token: creator.access_token });
    assert.deepEqual([registered.body.status, registered.body.title], ['uploading', 'Our trip']);

    const half = Math.floor(data.length / 2);
    await interruptedPatch(t, creator.access_token, location, 0, data.subarray(0, half), data.length);
    const offset = Number((await headUpload(t, creator.access_token, location)).headers.get('upload-offset'));
    assert.ok(offset > 0 && offset <= half);
    const events = readEvents(`${t.url}/api/v1/videos/${id}/events`, creator.access_token);
    const done = await patchUpload(t, creator.access_token, location, offset, data.subarray(offset));
    assert.equal(done.status, 204);

    const seen = await events;
    assert.equal(seen.at(-1)?.event, 'ready', JSON.stringify(seen));
    assert.ok(seen.some((e) => e.data.stage === 'encoding'));

    // Anyone may now watch it: the video, its master playlist and a segment of each rung.
    const video = await api(t, 'GET', `/api/v1/videos/${id}`);
    assert.equal(video.status, 200);
    assert.equal(video.body.status, 'ready');
    const master = await fetch(`${t.url}${video.body.playback.hls}`);
    assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(master.headers.get('access-control-allow-origin'), '*');
    const rungs = [...(await master.text()).matchAll(/^(\d+p)\/index\.m3u8$/gm)].map((m) => m[1]);
    assert.deepEqual(rungs, ['240p', '360p']);
    for (const rung of rungs) {
      const base = video.body.playback.hls.replace('master.m3u8', `${rung}/`);
      const list = await (await fetch(`${t.url}${base}index.m3u8`)).text();
      assert.match(list, /#EXT-X-ENDLIST/);
      const first = /^(seg_\d+\.m4s)$/m.exec(list)![1];
      const part = await fetch(`${t.url}${base}${first}`, { headers: { range: 'bytes=0-99' } });
      assert.equal(part.status, 206);
      assert.equal((await part.arrayBuffer()).byteLength, 100);
      assert.match(part.headers.get('cache-control') ?? '', /immutable/);
    }
  });
});
