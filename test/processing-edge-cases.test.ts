// Processing at the edges: clips of a handful of frames must become ready, and a failure that would
// happen again is not retried and says which stage failed.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents } from './helpers/sse.ts';
import { uploadVideo } from './helpers/upload.ts';

describe('processing edge cases', () => {
  let t: TestApp;
  let owner: Awaited<ReturnType<typeof registerUser>>;
  let clips: string;

  before(async () => {
    t = await startTestApp({
      LADDER_RUNGS: '240',
      SEGMENT_SECONDS: '2',
      ENCODE_PRESET: 'ultrafast',
      ENCODE_CRF: '30',
    });
    owner = await registerUser(t);
    clips = await tempDir();
  });
  after(async () => {
    await t.stop();
    await fs.rm(clips, { recursive: true, force: true });
  });

  /** Uploads a file through the API; its completion queues the processing job (3 attempts). */
  const submit = (file: string) => uploadVideo(t, owner.access_token, file);

  async function attempts(videoId: string): Promise<number[]> {
    const { rows } = await t.app.database.pool.query<{ attempts: number }>(
      `select attempts from graphile_worker._private_jobs where payload->>'videoId' = $1`,
      [videoId],
    );
    return rows.map((r) => r.attempts);
  }

  for (const [name, clip] of [
    ['a 1-frame clip', { frames: 1 }],
    ['a 3-frame clip', { frames: 3 }],
    ['a 0.2 s clip', { seconds: 0.2 }],
    ['a single frame with 3 s of sound', { frames: 1, audioSeconds: 3 }],
  ] as const) {
    it(`turns ${name} into a ready video with its images`, async () => {
      const file = await makeClip(clips, name.replace(/\W+/g, '-'), clip);
      const id = await submit(file);
      const events = await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token);
      const final = events.at(-1);
      assert.equal(final?.event, 'ready', JSON.stringify(final));
      assert.equal((await t.app.videos.get(id))?.media_version, 1, 'processed in one run');
      const video = await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token });
      assert.equal(video.body.status, 'ready');
      const rung = await fetch(
        `${t.url}${video.body.playback.hls.replace('master.m3u8', '240p/index.m3u8')}`,
      );
      assert.match(await rung.text(), /^seg_\d+\.m4s$/m);
      assert.equal((await fetch(`${t.url}${video.body.playback.poster}`)).status, 200);
      // The storyboard's cues point at a sprite that exists.
      const vtt = video.body.playback.storyboard_vtt;
      const cues = await (await fetch(`${t.url}${vtt}`)).text();
      const sprite = /^(storyboard\.jpg)[^#\n]*#xywh=/m.exec(cues)?.[1];
      assert.ok(sprite, cues);
      const got = await fetch(`${t.url}${vtt.replace(/storyboard\.vtt.*$/, sprite)}`);
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type'), 'image/jpeg');
    });
  }

  it('fails a clip whose frames cannot be decoded after one attempt, naming the stage', async () => {
    // Probes as a fine H.264 MP4, but every coded frame is zeros: the encode can only fail, every time.
    const whole = await fs.readFile(await makeClip(clips, 'to-zero', { seconds: 2, audio: false }));
    const zeroed = Buffer.from(whole);
    for (let at = 0; at + 8 <= zeroed.length; ) {
      const size = zeroed.readUInt32BE(at);
      if (zeroed.toString('latin1', at + 4, at + 8) === 'mdat') {
        zeroed.fill(0, at + 8, at + size);
        break;
      }
      at += size;
    }
    const file = path.join(clips, 'undecodable.mp4');
    await fs.writeFile(file, zeroed);
    const id = await submit(file);
    const events = await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token);
    const final = events.at(-1);
    assert.equal(final?.event, 'failed', JSON.stringify(events));
    assert.equal(final?.data.failure_code, 'ENCODING_FAILED');
    assert.match(final?.data.failure_message ?? '', /^encoding: /);
    assert.doesNotMatch(final?.data.failure_message ?? '', new RegExp(t.app.config.media.workDir));
    // The job finishes (its row goes) after its first attempt instead of waiting for a retry.
    for (let i = 0; ; i++) {
      const left = await attempts(id);
      if (left.length === 0) break;
      assert.deepEqual(left, [1]);
      assert.ok(i < 100, 'the job is finished, not waiting for a retry');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await t.app.videos.get(id))?.media_version, 1, 'never run again');
    const video = await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token });
    assert.deepEqual([video.body.status, video.body.processing.failure_code], ['failed', 'ENCODING_FAILED']);
    assert.deepEqual(await t.app.store.list(`videos/${id}/`), []);
  });
});
