// A worker killed while its video is `playable`: the retry continues the version viewers are watching.
// A viewer who started before the kill plays to the end without an error, and no client ever sees the
// video go from playable back to processing.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processVideoJobType } from '../src/modules/transcoding/index.ts';
import { enqueue } from '../src/platform/jobs/enqueue.ts';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { playToEnd } from './helpers/hls-player.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents, type SseEvent } from './helpers/sse.ts';
import { sleep, WorkerProcesses, waitFor } from './helpers/worker-process.ts';

const SECONDS = 12;

describe('retry after playable', () => {
  let t: TestApp;
  let dataDir: string;
  let clips: string;
  let workers: WorkerProcesses;

  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-resume-'));
    const media = { LADDER_RUNGS: '240,360', SEGMENT_SECONDS: '2', ENCODE_PRESET: 'slow', ENCODE_CRF: '30' };
    t = await startTestApp({ DATA_DIR: dataDir, ...media }, { role: 'api' });
    workers = new WorkerProcesses(t, dataDir, media);
    clips = await tempDir();
  });
  after(async () => {
    await workers.killAll();
    await t.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(clips, { recursive: true, force: true });
  });

  it('a viewer who started before the worker was killed plays to the end', async (ctx) => {
    const owner = await registerUser(t);
    const clip = await makeClip(clips, 'clip', { width: 640, height: 360, seconds: SECONDS });
    const a = await workers.start();
    const id = await workers.submit(owner.id, clip);

    // What clients see: the SSE stream, and the video as the API answers it, polled.
    let isPlayable = () => {};
    const playable = new Promise<void>((resolve) => {
      isPlayable = resolve;
    });
    const events = readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token, 170_000, (e) => {
      if (e.event === 'playable') isPlayable();
    });
    const polled: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const res = await api(t, 'GET', `/api/v1/videos/${id}`);
        polled.push(res.status === 200 ? res.body.status : `http ${res.status}`);
        await sleep(100);
      }
    })();
    ctx.after(async () => {
      polling = false;
      await poller.catch(() => {});
    });

    await playable;
    const video = (await api(t, 'GET', `/api/v1/videos/${id}`)).body;
    assert.equal(video.status, 'playable');
    const played = playToEnd(`${t.url}${video.playback.hls}`, { variant: 1, timeoutMs: 170_000 });
    played.catch(() => {}); // awaited below
    // The viewer has its first segments; then the worker dies mid-encode.
    await sleep(500);
    assert.equal((await workers.video(id)).status, 'playable', 'still being encoded when killed');
    await workers.kill(a);
    const b = await workers.start();

    const tracks = await played;
    for (const track of tracks) {
      assert.equal(track.types.at(-1), 'VOD', JSON.stringify(track));
      assert.ok(Math.abs(track.durationS - SECONDS) < 0.2, `${track.uri}: ${track.durationS} s`);
    }
    const seen: SseEvent[] = await events;
    polling = false;
    await poller;
    assert.equal(seen.at(-1)?.event, 'ready', JSON.stringify(seen));
    assert.ok(
      seen.slice(seen.findIndex((e) => e.event === 'playable')).some((e) => e.data.stage === 'probing'),
      'a second run finished the video',
    );
    const statuses = seen.map((e) => e.data.status as string);
    ctx.diagnostic(`statuses over SSE: ${[...new Set(statuses)].join(', ')}`);
    const afterPlayable = (list: string[]) => list.slice(list.indexOf('playable'));
    assert.deepEqual(
      afterPlayable(statuses).filter((s) => s !== 'playable' && s !== 'ready'),
      [],
      'over SSE, never back from playable',
    );
    assert.deepEqual(
      afterPlayable(polled).filter((s) => s !== 'playable' && s !== 'ready'),
      [],
      'in the API, never back from playable',
    );

    const done = await workers.ready(id);
    assert.equal(
      done.playback_version,
      Number(video.playback.hls.split('/')[4]),
      'the version the viewer had',
    );
    assert.deepEqual(await fs.readdir(path.join(dataDir, 'storage', 'videos', id)), [
      String(done.playback_version),
    ]);
    await waitFor('the job to be finished', async () => (await workers.job(id)) === undefined);
    await workers.stop(b);
  });

  it('keeps the stored segments it continues, and moves to a new version when its output differs', async () => {
    const owner = await registerUser(t);
    const w = await workers.start();
    const id = await workers.submit(owner.id, await makeClip(clips, 'short', { seconds: 4 }));
    await workers.ready(id);
    const stored = (...parts: string[]) => path.join(dataDir, 'storage', 'videos', id, ...parts);
    const segment = stored('1', 'hls', '240p', 'seg_00000.m4s');
    const before = await fs.stat(segment);

    // As a run that made version 1 playable and was killed leaves it, then the job again.
    const runAgain = async () => {
      await t.app.database.pool.query(
        `update videos set status = 'playable', ready_at = null where id = $1`,
        [id],
      );
      const events = readEvents(`${t.url}/api/v1/videos/${id}/events`, owner.access_token, 60_000);
      await t.app.database.db
        .transaction()
        .execute((tx) => enqueue(tx, processVideoJobType, { videoId: id }));
      const seen = await events;
      assert.equal(seen.at(-1)?.event, 'ready', JSON.stringify(seen));
      assert.deepEqual(
        seen.filter((e) => e.data.status !== 'playable' && e.data.status !== 'ready'),
        [],
        'never back from playable',
      );
      const done = await workers.ready(id);
      await waitFor('the job to be finished', async () => (await workers.job(id)) === undefined);
      return done;
    };

    // The same encode: version 1 goes on, its stored segments untouched.
    const continued = await runAgain();
    assert.deepEqual([continued.media_version, continued.playback_version], [1, 1]);
    const after = await fs.stat(segment);
    assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'the stored segment stayed');

    // Another init segment (as another ffmpeg build would write): a new version, complete.
    await fs.appendFile(stored('1', 'hls', '240p', 'init.mp4'), Buffer.from([0]));
    const moved = await runAgain();
    assert.deepEqual([moved.media_version, moved.playback_version], [2, 2]);
    assert.deepEqual(await fs.readdir(stored()), ['2']);
    const { playback } = await (await fetch(`${t.url}/api/v1/videos/${id}`)).json();
    assert.match(playback.hls, new RegExp(`/media/videos/${id}/2/`));
    const master = await fetch(new URL(playback.hls, t.url));
    assert.equal(master.status, 200);
    assert.ok((await fs.stat(stored('2', 'hls', '240p', 'seg_00000.m4s'))).size > 0);
    await workers.stop(w);
  });
});
