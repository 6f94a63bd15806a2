import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildEncodeArgs } from '../../src/modules/transcoding/encode-command.ts';
import {
  type ImagePlan,
  makeStills,
  planImages,
  stillsArgs,
  storyboardFilter,
  storyboardVtt,
} from '../../src/modules/transcoding/images.ts';
import { planLadder } from '../../src/modules/transcoding/ladder.ts';
import { runFfmpeg } from '../../src/platform/media/ffmpeg-runner.ts';
import type { MediaInfo } from '../../src/platform/media/media-info.ts';
import { probe } from '../../src/platform/media/probe.ts';
import { demuxerOf, SOURCE_URL } from '../../src/platform/media/source-input.ts';
import { mediaTools } from '../../src/platform/media/tools.ts';
import { makeClip, tempDir } from '../helpers/media.ts';
import { mediaInfo } from '../helpers/media-info.ts';

const run = promisify(execFile);

const info = mediaInfo({ durationS: 6, bitRate: null, audio: null });

describe('planImages', () => {
  it('fits the poster in 1280 and keeps thumbnail widths at most the poster, even-sized', () => {
    const plan = planImages(info);
    assert.deepEqual(plan.poster, { file: 'poster.jpg', width: 1280, height: 720 });
    assert.deepEqual(
      plan.thumbnails.map((t) => [t.width, t.height]),
      [
        [320, 180],
        [640, 360],
        [1280, 720],
      ],
    );
  });

  it('never upscales and honours rotation', () => {
    const phone = planImages({ ...info, width: 640, height: 360, rotation: 90 });
    assert.deepEqual([phone.poster.width, phone.poster.height], [360, 640]);
    assert.deepEqual(
      phone.thumbnails.map((t) => [t.width, t.height]),
      [[320, 568]],
    );
    assert.deepEqual([phone.storyboard.tileWidth, phone.storyboard.tileHeight], [160, 284]);
    const tiny = planImages({ ...info, width: 200, height: 150 });
    assert.deepEqual(
      tiny.thumbnails.map((t) => [t.width, t.height]),
      [[200, 150]],
    );
  });

  it('keeps the storyboard at 100 tiles or fewer, one every whole number of seconds', () => {
    for (const durationS of [0.3, 6, 99.5, 100, 101, 3600, 4 * 3600 + 7]) {
      const { storyboard: s } = planImages({ ...info, durationS });
      assert.ok(s.count >= 1 && s.count <= 100, `${durationS}s gives ${s.count} tiles`);
      assert.ok(Number.isInteger(s.intervalS));
      assert.ok(s.columns * s.rows >= s.count && s.columns <= 10);
      // The middle of the last tile's interval is inside the video.
      assert.ok((s.count - 1) * s.intervalS + Math.min(s.intervalS / 2, durationS / 2) < durationS);
    }
  });

  it('seeks before the input and skips dark frames for the poster', () => {
    const args = stillsArgs('/in.mp4', planImages(info), '/out');
    assert.ok(args.indexOf('-ss') < args.indexOf('-i'));
    assert.equal(args.filter((a) => a === '-i').length, 1);
    assert.match(args[args.indexOf('-filter_complex') + 1]!, /signalstats,metadata=mode=select/);
    assert.equal(args.filter((a) => a.endsWith('.jpg')).length, 4);
    assert.match(
      storyboardFilter(planImages(info).storyboard),
      /fps=fps=1\/1,scale=160:90,setsar=1,tile=6x1$/,
    );
  });
});

describe('storyboardVtt', () => {
  it('writes one cue per tile with its place in the sprite, the last ending the video', () => {
    const vtt = storyboardVtt({
      file: 'storyboard.jpg',
      vtt: 'storyboard.vtt',
      tileWidth: 160,
      tileHeight: 90,
      columns: 10,
      rows: 2,
      intervalS: 5,
      count: 12,
      durationS: 58.4,
    });
    const lines = vtt.split('\n');
    assert.equal(lines[0], 'WEBVTT');
    assert.equal(lines[2], '00:00:00.000 --> 00:00:05.000');
    assert.equal(lines[3], 'storyboard.jpg#xywh=0,0,160,90');
    assert.ok(vtt.includes('00:00:50.000 --> 00:00:55.000\nstoryboard.jpg#xywh=0,90,160,90'));
    assert.ok(vtt.includes('00:00:55.000 --> 00:00:58.400\nstoryboard.jpg#xywh=160,90,160,90'));
  });
});

/** Mean luma (0-255) of an image, from an 8x8 gray area-average. */
async function meanLuma(file: string): Promise<number> {
  const { stdout } = await run(
    mediaTools().ffmpeg,
    ['-v', 'error', '-i', file, '-vf', 'scale=8:8:flags=area,format=gray', '-f', 'rawvideo', '-'],
    { encoding: 'buffer' },
  );
  return stdout.reduce((sum, b) => sum + b, 0) / stdout.length;
}

async function imageSize(file: string): Promise<[number, number]> {
  const { stdout } = await run(mediaTools().ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'stream=width,height',
    '-of',
    'csv=p=0',
    file,
  ]);
  const [w, h] = stdout.trim().split(',').map(Number);
  return [w!, h!];
}

/**
 * The images of a clip, made as the pipeline makes them: the storyboard sprite by the encode's own
 * decode (one small rung beside it), then the stills and the storyboard's VTT.
 */
async function drawImages(clip: string, clipInfo: MediaInfo, out: string): Promise<ImagePlan> {
  const plan = planImages(clipInfo);
  const ladder = planLadder(clipInfo, { rungs: [144], segmentSeconds: 2, crf: 40 });
  const hls = path.join(out, 'hls');
  for (const dir of [...ladder.renditions.map((r) => r.name), ...(ladder.audio ? ['audio'] : [])]) {
    await fs.mkdir(path.join(hls, dir), { recursive: true });
  }
  const inputFormat = demuxerOf(clipInfo.container);
  const encode = buildEncodeArgs(clipInfo, ladder, {
    input: SOURCE_URL,
    inputFormat,
    outDir: hls,
    playlistType: 'vod',
    preset: 'ultrafast',
    storyboard: { filter: storyboardFilter(plan.storyboard), file: path.join(out, plan.storyboard.file) },
  });
  await runFfmpeg(encode, { source: clip });
  await makeStills(clip, plan, out, inputFormat);
  return plan;
}

describe('the images of a processed clip', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('picks a non-black poster from a video that opens on 2 s of black', async () => {
    const clip = path.join(dir, 'black-open.mp4');
    await run(mediaTools().ffmpeg, [
      ...['-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', 'color=black:size=320x180:rate=30:duration=2'],
      // A single second of picture: most of the poster window is black, where an unfiltered pick is.
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30:duration=1'],
      ...['-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0[v]', '-map', '[v]'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip],
    ]);
    const clipInfo = await probe(clip);
    const out = path.join(dir, 'black-open');
    await fs.mkdir(out);
    const images = await drawImages(clip, clipInfo, out);

    assert.ok((await meanLuma(path.join(out, images.poster.file))) > 50, 'poster is not black');
    assert.deepEqual(await imageSize(path.join(out, images.poster.file)), [320, 180]);
    for (const t of images.thumbnails) {
      assert.deepEqual(await imageSize(path.join(out, t.file)), [t.width, t.height]);
    }

    const sb = images.storyboard;
    assert.deepEqual(await imageSize(path.join(out, sb.file)), [
      sb.columns * sb.tileWidth,
      sb.rows * sb.tileHeight,
    ]);
    const vtt = await fs.readFile(path.join(out, sb.vtt), 'utf8');
    const cues = [...vtt.matchAll(/(\d\d):(\d\d):(\d\d\.\d{3}) --> (\d\d):(\d\d):(\d\d\.\d{3})/g)].map(
      (m) => [seconds(m[1]!, m[2]!, m[3]!), seconds(m[4]!, m[5]!, m[6]!)] as const,
    );
    assert.equal(cues.length, sb.count);
    assert.equal(cues[0]![0], 0);
    assert.ok(Math.abs(cues.at(-1)![1] - clipInfo.durationS) < 0.001, 'the last cue ends the video');
    for (const [i, [start]] of cues.slice(1).entries()) {
      assert.equal(start, cues[i]![1], 'cues leave no gap');
    }
  });

  it('makes portrait images of a video shot upright', async () => {
    const clip = await makeClip(dir, 'upright', { width: 320, height: 180, seconds: 2, rotate: 90 });
    const out = path.join(dir, 'upright');
    await fs.mkdir(out);
    const images = await drawImages(clip, await probe(clip), out);
    assert.deepEqual(await imageSize(path.join(out, images.poster.file)), [180, 320]);
    assert.deepEqual(await imageSize(path.join(out, images.storyboard.file)), [
      images.storyboard.columns * 160,
      images.storyboard.rows * 284,
    ]);
  });
});

function seconds(h: string, m: string, s: string): number {
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}
