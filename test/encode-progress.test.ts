// Encoding progress with Debian's ffmpeg 5.1, the one the README recommends: it prints no `-progress`
// block until every output has started, and the storyboard output starts only at the end, so progress
// must come from somewhere else than ffmpeg's report.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { readEvents } from './helpers/sse.ts';
import { createUpload, patchUpload } from './helpers/tus.ts';

const DEBIAN_FFMPEG = '/usr/bin/ffmpeg';
const debian =
  existsSync(DEBIAN_FFMPEG) &&
  /^ffmpeg version 5\./.test(execFileSync(DEBIAN_FFMPEG, ['-version'], { encoding: 'utf8' }));

describe('encoding progress', { skip: debian ? false : `${DEBIAN_FFMPEG} is not ffmpeg 5` }, () => {
  let t: TestApp;
  let clips: string;

  before(async () => {
    t = await startTestApp({
      FFMPEG_PATH: DEBIAN_FFMPEG,
      FFPROBE_PATH: '/usr/bin/ffprobe',
      LADDER_RUNGS: '240',
      SEGMENT_SECONDS: '1',
      // Slow enough that the encode of a 10 s clip lasts a few seconds.
      ENCODE_PRESET: 'slow',
    });
    clips = await tempDir();
  });
  after(async () => {
    await t.stop();
    await fs.rm(clips, { recursive: true, force: true });
  });

  it('rises through intermediate percentages with Debian ffmpeg 5.1 before ready', async (ctx) => {
    const creator = await registerUser(t);
    const data = await fs.readFile(await makeClip(clips, 'ten', { seconds: 10 }));
    const created = await createUpload(t, creator.access_token, {
      size: data.length,
      metadata: { filename: 'ten.mp4', title: 'Ten seconds' },
    });
    assert.equal(created.status, 201);
    const id = created.headers.get('vireo-video-id')!;
    const events = readEvents(`${t.url}/api/v1/videos/${id}/events`, creator.access_token, 120_000);
    const done = await patchUpload(t, creator.access_token, created.headers.get('location')!, 0, data);
    assert.equal(done.status, 204);

    const seen = await events;
    assert.equal(seen.at(-1)?.event, 'ready', JSON.stringify(seen));
    const encoding = seen.filter((e) => e.data.stage === 'encoding').map((e) => e.data.percent as number);
    ctx.diagnostic(`encoding percentages: ${encoding.join(', ')}`);
    const between = [...new Set(encoding.filter((p) => p > 0 && p < 99))];
    assert.ok(between.length >= 2, `encoding percentages seen: ${encoding.join(', ')}`);
    assert.deepEqual(
      encoding,
      [...encoding].sort((a, b) => a - b),
      'progress never goes back',
    );
  });
});
