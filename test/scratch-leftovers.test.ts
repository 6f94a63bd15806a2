// Scratch folders of runs killed with their worker: removed by the next worker to start on the machine
// and by the sweep of any worker sharing WORK_DIR, even when the video is not run there again; the folder
// of a run that still runs is never touched.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { WorkerProcesses, waitFor } from './helpers/worker-process.ts';

describe('scratch folders of killed runs', () => {
  let t: TestApp;
  let dataDir: string;
  let clips: string;
  let workers: WorkerProcesses;

  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-scratch-'));
    const media = {
      LADDER_RUNGS: '240,360',
      SEGMENT_SECONDS: '2',
      ENCODE_PRESET: 'slow',
      ENCODE_CRF: '30',
      // One job at a time: a busy worker leaves the next video to the queue.
      WORKER_CONCURRENCY: '1',
    };
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

  const scratchOf = async (id: string) =>
    (await fs.readdir(workers.workDir).catch(() => [] as string[])).filter((n) => n.includes(id));

  it('go when a worker starts and with the sweep; a running one stays', async () => {
    const owner = await registerUser(t);
    const long = await makeClip(clips, 'long', { width: 640, height: 360, seconds: 24 });
    const short = await makeClip(clips, 'short', { width: 640, height: 360, seconds: 8 });

    // A run killed mid-encode leaves its folder; the next worker to start on this machine removes it.
    const a = await workers.start();
    const first = await workers.submit(owner.id, long);
    await workers.encodingOn(a, first);
    assert.equal((await scratchOf(first)).length, 1);
    await workers.kill(a);
    // A job locked a moment ago counts as running: its worker's marker may not be visible yet.
    await waitFor('the lock of the killed run to age', async () => {
      const j = await workers.job(first);
      return (j?.locked_for_s ?? 0) > 3 || undefined;
    });
    const b = await workers.start();
    assert.deepEqual(await scratchOf(first), [], 'removed as the next worker started');

    // The first video runs again on b; a worker starting meanwhile leaves that run's folder alone.
    await workers.encodingOn(b, first);
    const running = await scratchOf(first);
    assert.equal(running.length, 1);
    const d = await workers.start();
    assert.deepEqual(await scratchOf(first), running, "a running run's folder stays at a worker start");

    // d's run of a second video is killed. b is busy, so the second video waits in the queue: nothing
    // runs it again on this machine for now, yet b's sweep removes what the killed run left.
    const second = await workers.submit(owner.id, short);
    await workers.encodingOn(d, second);
    assert.equal((await scratchOf(second)).length, 1);
    await workers.kill(d);
    await waitFor("the sweep to remove the killed run's folder", async () => {
      const v = await workers.video(first);
      if (v.status === 'ready') assert.fail('the first video was done before the sweep could be seen');
      return (await scratchOf(second)).length === 0 || undefined;
    });
    assert.deepEqual(await scratchOf(first), running, "a running run's folder stays at a sweep");

    for (const id of [first, second]) {
      await workers.ready(id);
      assert.deepEqual(await scratchOf(id), [], 'a finished run leaves nothing');
    }
    await workers.stop(b);
  });
});
