// The npm-shipped ffmpeg/ffprobe (an older static build) are the fallback when none is on PATH:
// the whole pipeline must work with them too.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents } from './helpers/sse.ts';
import { uploadVideo } from './helpers/upload.ts';

const require = createRequire(import.meta.url);

describe('npm-shipped media tools', () => {
  let t: TestApp;
  let clips: string;

  before(async () => {
    t = await startTestApp({
      FFMPEG_PATH: require('@ffmpeg-installer/ffmpeg').path,
      FFPROBE_PATH: require('@ffprobe-installer/ffprobe').path,
      LADDER_RUNGS: '240,360',
      SEGMENT_SECONDS: '2',
      ENCODE_PRESET: 'ultrafast',
    });
    clips = await tempDir();
  });
  after(async () => {
    await t.stop();
    await fs.rm(clips, { recursive: true, force: true });
  });

  it('processes a video to ready', async () => {
    const owner = await registerUser(t);
    const file = await makeClip(clips, 'clip', { width: 640, height: 360, seconds: 3 });
    const id = await uploadVideo(t, owner.access_token, file);
    const final = (await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token)).at(-1);
    assert.equal(final?.event, 'ready', JSON.stringify(final));
    const got = await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token });
    assert.equal(got.body.renditions.length, 2);
    for (const url of [got.body.playback.hls, got.body.playback.poster, got.body.playback.storyboard_vtt]) {
      assert.equal((await fetch(`${t.url}${url}`)).status, 200, url);
    }
  });
});
