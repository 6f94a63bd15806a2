// Playable in seconds: the video can be watched once the first segment of every rendition is stored,
// and a player that starts then follows the growing playlists to the very end without a reload.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { playToEnd } from './helpers/hls-player.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents } from './helpers/sse.ts';
import { createUpload, patchUpload } from './helpers/tus.ts';

const SECONDS = 16;

describe('playable while processing', () => {
  let t: TestApp;
  let clips: string;

  before(async () => {
    // Four rungs up to 720p: enough work that the encode is still running when the video plays.
    t = await startTestApp({
      LADDER_RUNGS: '240,360,480,720',
      SEGMENT_SECONDS: '2',
      ENCODE_PRESET: 'faster',
    });
    clips = await tempDir();
  });
  after(async () => {
    await t.stop();
    await fs.rm(clips, { recursive: true, force: true });
  });

  it('plays from the first segments through to the end while the encode runs', async () => {
    const creator = await registerUser(t);
    const data = await fs.readFile(
      await makeClip(clips, 'long', { width: 1280, height: 720, seconds: SECONDS }),
    );
    const created = await createUpload(t, creator.access_token, {
      size: data.length,
      metadata: { filename: 'long.mp4', title: 'Long' },
    });
    assert.equal(created.status, 201);
    const id = created.headers.get('vireo-video-id')!;

    type AtPlayable = { video: any; mpd: string; played: Awaited<ReturnType<typeof playToEnd>> };
    const player: { run?: Promise<AtPlayable> } = {};
    const events = readEvents(`${t.url}/api/v1/videos/${id}/events`, creator.access_token, 180_000, (e) => {
      if (e.event !== 'playable') return;
      player.run = (async () => {
        // Anyone may watch a public video from now on, not only its owner.
        const video = (await api(t, 'GET', `/api/v1/videos/${id}`)).body;
        const mpd = await (await fetch(`${t.url}${video.playback.dash}`)).text();
        const played = await playToEnd(`${t.url}${video.playback.hls}`, { variant: 3 });
        return { video, mpd, played };
      })();
    });
    const done = await patchUpload(t, creator.access_token, created.headers.get('location')!, 0, data);
    assert.equal(done.status, 204);

    const seen = await events;
    const names = seen.map((e) => e.event);
    assert.equal(names.at(-1), 'ready', JSON.stringify(seen));
    assert.equal(names.filter((n) => n === 'playable').length, 1, names.join(','));
    assert.ok(names.indexOf('playable') < names.indexOf('ready'));
    assert.ok(player.run, 'the player started');
    const { video, mpd, played } = await player.run;

    assert.equal(video.status, 'playable');
    assert.match(video.playback.hls, /master\.m3u8$/);
    assert.match(mpd, /type="dynamic"/);
    for (const track of played) {
      // Joined while the list was growing, followed it, and ended on the finished list.
      assert.equal(track.types[0], 'EVENT', JSON.stringify(track));
      assert.equal(track.types.at(-1), 'VOD', JSON.stringify(track));
      assert.ok(track.loads > 1);
      assert.ok(Math.abs(track.durationS - SECONDS) < 0.2, `${track.uri}: ${track.durationS} s`);
      // AAC frames do not end exactly on the last video frame: audio may have a short extra segment.
      assert.ok(track.segments >= SECONDS / 2, `${track.uri}: ${track.segments} segments`);
    }

    const ready = (await api(t, 'GET', `/api/v1/videos/${id}`)).body;
    assert.equal(ready.status, 'ready');
    assert.equal(ready.playback.hls, video.playback.hls);
    assert.match(await (await fetch(`${t.url}${ready.playback.dash}`)).text(), /type="static"/);
    const master = await (await fetch(`${t.url}${ready.playback.hls}`)).text();
    assert.equal([...master.matchAll(/#EXT-X-STREAM-INF/g)].length, 4);
    const poster = await fetch(`${t.url}${ready.playback.poster}`);
    assert.equal(poster.status, 200);
  });
});
