// Processing end to end: a stored source, the real job worker and ffmpeg, progress over SSE, playback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { mediaTools } from '../src/platform/media/tools.ts';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents } from './helpers/sse.ts';
import { createUpload } from './helpers/tus.ts';
import { uploadVideo } from './helpers/upload.ts';

const run = promisify(execFile);

describe('video processing', () => {
  let t: TestApp;
  let owner: Awaited<ReturnType<typeof registerUser>>;
  let clips: string;
  // Processing runs work in scratch folders under WORK_DIR: this one, watched, so that a test can tell
  // a folder that was never made from one that was made and removed.
  let work: string;
  let watcher: FSWatcher;
  const made = new Set<string>();

  before(async () => {
    work = await tempDir('vireo-work-');
    watcher = watch(work, (_event, name) => {
      if (name) made.add(String(name));
    });
    t = await startTestApp({
      LADDER_RUNGS: '240,360',
      SEGMENT_SECONDS: '2',
      ENCODE_PRESET: 'ultrafast',
      ENCODE_CRF: '30',
      WORK_DIR: work,
    });
    owner = await registerUser(t);
    clips = await tempDir();
  });
  after(async () => {
    watcher.close();
    await t.stop();
    await fs.rm(clips, { recursive: true, force: true });
    await fs.rm(work, { recursive: true, force: true });
  });

  /** Uploads a file through the API; its completion queues the processing job. */
  const submit = (file: string) => uploadVideo(t, owner.access_token, file);

  /** The runs of a video worked in WORK_DIR (`process-<video>-<version>`) and left nothing there. */
  async function assertNoScratch(id: string): Promise<void> {
    const prefix = `process-${id}-`;
    assert.ok(
      [...made].some((name) => name.startsWith(prefix)),
      `no scratch folder of ${id} was ever made in WORK_DIR: ${[...made].join(', ')}`,
    );
    const left = (await fs.readdir(work)).filter((name) => name.startsWith(prefix));
    assert.deepEqual(left, [], 'scratch folders left in WORK_DIR');
  }

  it('reaches ready with rising progress over SSE, then plays', async () => {
    const id = await submit(await makeClip(clips, 'landscape', { width: 640, height: 360, seconds: 4 }));
    const events = await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token);
    const last = events.at(-1)!;
    assert.equal(last.event, 'ready', JSON.stringify(events));
    const encoding = events
      .filter((e) => e.event === 'progress' && e.data.stage === 'encoding')
      .map((e) => e.data.percent);
    assert.deepEqual(
      encoding,
      [...encoding].sort((a, b) => a - b),
      'progress never goes back',
    );
    const stages = [...new Set(events.map((e) => e.data.stage).filter(Boolean))];
    assert.deepEqual(stages, ['probing', 'encoding', 'packaging', 'thumbnails']);

    const video = await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token });
    assert.equal(video.status, 200);
    assert.equal(video.body.status, 'ready');
    assert.deepEqual(
      video.body.renditions.map((r: { name: string }) => r.name),
      ['240p', '360p'],
    );
    assert.equal(video.body.media.has_audio, true);

    const master = await fetch(`${t.url}${video.body.playback.hls}`);
    assert.equal(master.status, 200);
    const text = await master.text();
    assert.equal(text.match(/#EXT-X-STREAM-INF/g)?.length, 2);
    assert.match(text, /TYPE=AUDIO/);
    const rung = await fetch(`${t.url}${video.body.playback.hls.replace('master.m3u8', '240p/index.m3u8')}`);
    const segment = /^(seg_\d+\.m4s)$/m.exec(await rung.text())?.[1];
    assert.ok(segment);
    const seg = await fetch(`${t.url}${video.body.playback.hls.replace('master.m3u8', `240p/${segment}`)}`);
    assert.equal(seg.status, 200);
    assert.ok((await seg.arrayBuffer()).byteLength > 0);
    for (const url of [
      video.body.playback.dash,
      video.body.playback.poster,
      video.body.playback.storyboard_vtt,
    ]) {
      assert.equal((await fetch(`${t.url}${url}`)).status, 200, url);
    }
    const polled = await api(t, 'GET', `/api/v1/videos/${id}/processing`, { token: owner.access_token });
    assert.deepEqual([polled.body.status, polled.body.percent], ['ready', 100]);
    await assertNoScratch(id);
  });

  it('makes no audio group for a silent source', async () => {
    const id = await submit(await makeClip(clips, 'silent', { audio: false, seconds: 2 }));
    const [final] = (await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token)).slice(-1);
    assert.equal(final?.event, 'ready');
    const video = await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token });
    const master = await (await fetch(`${t.url}${video.body.playback.hls}`)).text();
    assert.doesNotMatch(master, /TYPE=AUDIO/);
    assert.equal(video.body.media.has_audio, false);
    await assertNoScratch(id);
  });

  it('fails a text file named .mp4 and an empty file with their codes', async () => {
    const text = path.join(clips, 'notes.mp4');
    await fs.writeFile(text, 'these are not the frames you are looking for\n'.repeat(50));
    const empty = path.join(clips, 'empty.mp4');
    await fs.writeFile(empty, '');
    for (const [file, code] of [
      [text, 'UNSUPPORTED_FORMAT'],
      [empty, 'FILE_EMPTY'],
    ] as const) {
      const id = await submit(file);
      const final = (await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token)).at(-1);
      assert.equal(final?.event, 'failed');
      assert.equal(final?.data.failure_code, code);
      const video = await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token });
      assert.equal(video.body.status, 'failed');
      // No scratch folder and no partial outputs are left behind by a failure.
      await assertNoScratch(id);
      assert.deepEqual(await t.app.store.list(`videos/${id}/`), []);
    }
  });

  it('fails a truncated MP4, an audio-only file and an over-long video with their codes', async () => {
    const whole = await makeClip(clips, 'whole', { seconds: 2 });
    const truncated = path.join(clips, 'truncated.mp4');
    const bytes = await fs.readFile(whole);
    await fs.writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const audioOnly = path.join(clips, 'tone.m4a');
    await run(mediaTools().ffmpeg, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=1',
      '-c:a',
      'aac',
      audioOnly,
    ]);
    for (const [file, code] of [
      [truncated, 'FILE_CORRUPT'],
      [audioOnly, 'NO_VIDEO_STREAM'],
    ] as const) {
      const id = await submit(file);
      const final = (await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token)).at(-1);
      assert.equal(final?.data.failure_code, code, file);
      await assertNoScratch(id);
    }
    const short = await startTestApp({ MAX_VIDEO_DURATION_SECONDS: '1', WORK_DIR: work });
    try {
      const u = await registerUser(short);
      const id = await uploadVideo(short, u.access_token, whole);
      const final = (await readEvents(`${short.url}/api/v1/videos/${id}/events`, u.access_token)).at(-1);
      assert.equal(final?.data.failure_code, 'DURATION_TOO_LONG');
      await assertNoScratch(id);
    } finally {
      await short.stop();
    }
  });

  it('turns 10-bit 4:4:4 HEVC and interlaced MPEG-2 into 8-bit 4:2:0 H.264', async () => {
    const hevc = await makeClip(clips, 'hevc', {
      codec: 'libx265',
      pixFmt: 'yuv444p10le',
      seconds: 2,
      ext: 'mkv',
    });
    const mpeg2 = await makeClip(clips, 'mpeg2', {
      codec: 'mpeg2video',
      interlaced: true,
      seconds: 2,
      ext: 'ts',
    });
    for (const file of [hevc, mpeg2]) {
      const id = await submit(file);
      const final = (await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token)).at(-1);
      assert.equal(final?.event, 'ready', `${file}: ${JSON.stringify(final)}`);
      const video = await t.app.videos.get(id);
      const rung = path.join(clips, `${id}.mp4`);
      const prefix = `videos/${id}/${video!.media_version}/hls/240p/`;
      const parts = (await t.app.store.list(prefix)).map((o) => o.key).filter((k) => /\.(mp4|m4s)$/.test(k));
      const bodies = await Promise.all(
        parts
          .sort((a, b) => (a.endsWith('init.mp4') ? -1 : b.endsWith('init.mp4') ? 1 : a.localeCompare(b)))
          .map(async (k) => {
            const got = await t.app.store.get(k);
            const chunks: Buffer[] = [];
            for await (const c of got!.body) chunks.push(c as Buffer);
            return Buffer.concat(chunks);
          }),
      );
      await fs.writeFile(rung, Buffer.concat(bodies));
      const { stdout } = await run(mediaTools().ffprobe, [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,pix_fmt,field_order',
        '-of',
        'csv=p=0',
        rung,
      ]);
      assert.match(stdout.trim(), /^h264,yuv420p/, file);
    }
  });

  it('keeps a portrait phone clip portrait', async () => {
    const id = await submit(
      await makeClip(clips, 'phone', { width: 640, height: 360, rotate: 90, seconds: 2 }),
    );
    const final = (await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token)).at(-1);
    assert.equal(final?.event, 'ready');
    const video = await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token });
    for (const r of video.body.renditions)
      assert.ok(r.height > r.width, `${r.name} is ${r.width}x${r.height}`);
  });

  it('lets the owner re-run processing into a new version and removes the old one', async () => {
    const id = await submit(await makeClip(clips, 'again', { seconds: 2 }));
    assert.equal(
      (await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token)).at(-1)?.event,
      'ready',
    );
    const stranger = await registerUser(t);
    const denied = await api(t, 'POST', `/api/v1/videos/${id}/reprocess`, { token: stranger.access_token });
    assert.equal(denied.status, 404);
    const again = await api(t, 'POST', `/api/v1/videos/${id}/reprocess`, { token: owner.access_token });
    assert.equal(again.status, 202);
    const busy = await api(t, 'POST', `/api/v1/videos/${id}/reprocess`, { token: owner.access_token });
    assert.equal(busy.status, 409);
    assert.equal(
      (await readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token)).at(-1)?.event,
      'ready',
    );
    const video = await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token });
    assert.match(video.body.playback.hls, new RegExp(`/media/videos/${id}/2/`));
    // The old version is removed right after `ready` is announced.
    let left = await t.app.store.list(`videos/${id}/1/`);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await t.app.store.list(`videos/${id}/1/`);
    }
    assert.deepEqual(left, []);
    await assertNoScratch(id);
  });

  it('hides an unfinished video from others and answers 404 for unknown ids', async () => {
    // A tus upload created, not a byte sent yet.
    const created = await createUpload(t, owner.access_token, { size: 1000 });
    assert.equal(created.status, 201);
    const id = created.headers.get('vireo-video-id');
    assert.equal((await api(t, 'GET', `/api/v1/videos/${id}`)).status, 404);
    assert.equal(
      (await api(t, 'GET', `/api/v1/videos/${id}`, { token: owner.access_token })).body.status,
      'uploading',
    );
    const unknown = await api(t, 'GET', '/api/v1/videos/01900000-0000-7000-8000-000000000000');
    assert.equal(unknown.body.code, 'VIDEO_NOT_FOUND');
    assert.equal((await api(t, 'GET', '/api/v1/videos/not-a-uuid')).status, 400);
  });
});
