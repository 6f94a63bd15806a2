// An upload is read as one self-contained video and nothing else: playlists and file lists that name
// another user's stored media, or any other file, are refused with UNSUPPORTED_FORMAT without opening
// what they name. Everything goes through the real API and the in-process worker with real ffmpeg.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { api, registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents } from './helpers/sse.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Counts the processes that open a FIFO to read it. Opening a FIFO for writing without blocking
 * succeeds only while it has a reader, and a reader waits in open() until a writer comes: no reader
 * can slip between two looks.
 */
function watchFifo(file: string) {
  let readers = 0;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const writer = await fs.open(file, constants.O_WRONLY | constants.O_NONBLOCK);
      readers++;
      await writer.close(); // the reader gets end-of-file and goes on
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
    } finally {
      busy = false;
    }
  }, 10);
  return {
    readers: () => readers,
    stop: () => clearInterval(timer),
  };
}

describe('uploads that name other files', () => {
  let t: TestApp;
  let dataDir: string;
  let clips: string;
  let sentinel: string;
  let watcher: ReturnType<typeof watchFifo>;
  /** Where the victim's private 240p rendition lies, relative to a processing run's source file. */
  let victimDir: string;
  let victimFiles: string[];

  async function upload(token: string, data: Buffer, filename: string): Promise<string> {
    const form = new FormData();
    form.append('title', filename);
    form.append('file', new Blob([new Uint8Array(data)], { type: 'video/mp4' }), filename);
    const res = await fetch(`${t.url}/api/v1/videos/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    const body = await res.json();
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.id;
  }

  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-isolation-'));
    t = await startTestApp({
      DATA_DIR: dataDir,
      LADDER_RUNGS: '240',
      SEGMENT_SECONDS: '1',
      ENCODE_PRESET: 'ultrafast',
      ENCODE_CRF: '35',
    });
    clips = await tempDir();

    // Another user's video, uploaded, processed, then made private.
    const victim = await registerUser(t);
    const clip = await makeClip(clips, 'private', { width: 320, height: 240, seconds: 2 });
    const id = await upload(victim.access_token, await fs.readFile(clip), 'private.mp4');
    const final = (await readEvents(`${t.url}/api/v1/videos/${id}/events`, victim.access_token)).at(-1);
    assert.equal(final?.event, 'ready', JSON.stringify(final));
    const hidden = await api(t, 'PATCH', `/api/v1/videos/${id}`, {
      token: victim.access_token,
      body: { visibility: 'private' },
    });
    assert.equal(hidden.body.visibility, 'private');
    const version = (await t.app.videos.get(id))!.media_version;
    const stored = path.join(dataDir, 'storage', 'videos', id, String(version), 'hls', '240p');
    victimFiles = (await fs.readdir(stored)).sort();
    assert.ok(victimFiles.includes('init.mp4') && victimFiles.includes('seg_00000.m4s'), victimFiles.join());
    // Runs work in WORK_DIR/<run>/source; WORK_DIR is DATA_DIR/work, beside the store.
    victimDir = `../../storage/videos/${id}/${version}/hls/240p`;

    // A file that must never be opened: a FIFO with an extension the HLS reader accepts.
    sentinel = path.join(dataDir, 'sentinel.ts');
    await run('mkfifo', [sentinel]);
    watcher = watchFifo(sentinel);
    // The watcher sees a reader when there is one.
    const reader = await fs.open(sentinel, constants.O_RDONLY | constants.O_NONBLOCK);
    for (let i = 0; i < 100 && watcher.readers() === 0; i++) await sleep(10);
    await reader.close();
    // Once or more: a loaded machine may run the watcher twice while the reader is open.
    assert.ok(watcher.readers() >= 1, 'the FIFO watcher notices a reader');
  });
  after(async () => {
    watcher?.stop();
    await t.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(clips, { recursive: true, force: true });
  });

  const segments = () => victimFiles.filter((f) => f.endsWith('.m4s'));
  const lists: Array<[string, () => string]> = [
    [
      "an HLS playlist of another user's private video",
      () =>
        [
          '#EXTM3U',
          '#EXT-X-VERSION:7',
          '#EXT-X-TARGETDURATION:1',
          '#EXT-X-PLAYLIST-TYPE:VOD',
          `#EXT-X-MAP:URI="${victimDir}/init.mp4"`,
          ...segments().flatMap((s) => ['#EXTINF:1.0,', `${victimDir}/${s}`]),
          '#EXT-X-ENDLIST',
          '',
        ].join('\n'),
    ],
    [
      'an HLS playlist naming a file by its absolute path',
      () => ['#EXTM3U', '#EXT-X-TARGETDURATION:1', '#EXTINF:1.0,', sentinel, '#EXT-X-ENDLIST', ''].join('\n'),
    ],
    [
      'a concat list',
      () => [`file '${sentinel}'`, ...segments().map((s) => `file '${victimDir}/${s}'`), ''].join('\n'),
    ],
    [
      'an ffconcat list',
      () =>
        [
          'ffconcat version 1.0',
          `file ${sentinel}`,
          `file ${victimDir}/init.mp4`,
          ...segments().map((s) => `file ${victimDir}/${s}`),
          '',
        ].join('\n'),
    ],
  ];

  for (const [name, list] of lists) {
    it(`refuses ${name} without opening what it names`, async () => {
      const attacker = await registerUser(t);
      const before = watcher.readers();
      const id = await upload(attacker.access_token, Buffer.from(list()), 'holiday.mp4');
      const events = await readEvents(`${t.url}/api/v1/videos/${id}/events`, attacker.access_token);
      // Nothing was read from the files it names: no probe data, no outputs, the FIFO never opened.
      const video = await api(t, 'GET', `/api/v1/videos/${id}`, { token: attacker.access_token });
      assert.equal(video.body.media ?? null, null, `probed: ${JSON.stringify(video.body.media)}`);
      const final = events.at(-1);
      assert.equal(final?.event, 'failed', JSON.stringify(events));
      assert.equal(final?.data.failure_code, 'UNSUPPORTED_FORMAT');
      assert.deepEqual(await t.app.store.list(`videos/${id}/`), []);
      await sleep(50);
      assert.equal(watcher.readers(), before, 'the file it names was opened');
    });
  }
});
