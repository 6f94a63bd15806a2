// Short test clips and pictures made with ffmpeg's lavfi sources: a few seconds, small sizes.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { mediaTools } from '../../src/platform/media/tools.ts';

const run = promisify(execFile);

export interface ClipOptions {
  width?: number;
  height?: number;
  fps?: number;
  seconds?: number;
  /** Exactly this many video frames (the clip then lasts frames / fps). */
  frames?: number;
  audio?: boolean;
  /** Sound of another length than the picture (the clip then lasts the longer of the two). */
  audioSeconds?: number;
  /** Stored rotation metadata (a phone held upright records 90). */
  rotate?: 0 | 90 | 180 | 270;
  pixFmt?: string;
  codec?: 'libx264' | 'libx265' | 'mpeg2video' | 'libvpx-vp9';
  ext?: string;
  /** Encode as interlaced (top field first); for codecs that support it. */
  interlaced?: boolean;
}

export async function tempDir(prefix = 'vireo-media-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A one-frame picture of one colour, `size` as WxH, in the format its name's extension says. */
export async function makePicture(dir: string, name: string, size: string, color = 'red'): Promise<string> {
  const file = path.join(dir, name);
  await run(mediaTools().ffmpeg, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `color=${color}:s=${size}`,
    '-frames:v',
    '1',
    file,
  ]);
  return file;
}

export async function makeClip(dir: string, name: string, o: ClipOptions = {}): Promise<string> {
  const { width = 320, height = 240, fps = 30, audio = true, codec = 'libx264' } = o;
  const seconds = o.frames ? o.frames / fps : (o.seconds ?? 3);
  const file = path.join(dir, `${name}.${o.ext ?? 'mp4'}`);
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  // Half a frame short of the last frame's end: the source then makes exactly `frames` frames.
  const videoSeconds = o.frames ? (o.frames - 0.5) / fps : seconds;
  args.push('-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${videoSeconds}`);
  const audioSeconds = o.audioSeconds ?? seconds;
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${audioSeconds}`);
  args.push('-c:v', codec, '-pix_fmt', o.pixFmt ?? 'yuv420p');
  if (codec === 'libx264') args.push('-preset', 'ultrafast');
  if (codec === 'libx265') args.push('-preset', 'ultrafast', '-x265-params', 'log-level=error');
  if (o.interlaced) args.push('-flags', '+ilme+ildct', '-top', '1');
  if (audio) args.push('-c:a', 'aac', ...(o.audioSeconds ? [] : ['-shortest']));
  if (!o.rotate) {
    await run(mediaTools().ffmpeg, [...args, file]);
    return file;
  }
  // Rotation metadata only survives a stream copy in ffmpeg 5: encode, then remux with the tag.
  const plain = path.join(dir, `${name}.plain.${o.ext ?? 'mp4'}`);
  await run(mediaTools().ffmpeg, [...args, plain]);
  await run(mediaTools().ffmpeg, [
    '-v',
    'error',
    '-y',
    '-i',
    plain,
    '-c',
    'copy',
    '-metadata:s:v:0',
    `rotate=${o.rotate}`,
    file,
  ]);
  await fs.rm(plain);
  return file;
}
