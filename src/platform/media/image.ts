// Pictures people send (channel avatars and banners, video thumbnails): checked with ffprobe and
// redrawn with ffmpeg at a fixed size, so what is stored and served is always an image Vireo wrote.
//
// An image is opened like an upload (source-input.ts): from an inherited descriptor, through the `file`
// protocol only, and only by the single-image demuxers below. `image2` is left out on purpose: it reads
// numbered sequences of other files next to its input. Playlists, concat lists, SVG (which may name
// other files) and every other format are refused before a byte is decoded.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runFfmpeg } from './ffmpeg-runner.ts';
import { SOURCE_URL } from './source-input.ts';
import { mediaTools, runTool } from './tools.ts';

/** Demuxers, by ffmpeg's names, that read one picture from the one input they are given. */
export const IMAGE_FORMATS = ['png_pipe', 'jpeg_pipe', 'webp_pipe'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Decoders each demuxer may hand the picture to. */
const CODECS: Record<ImageFormat, string> = { png_pipe: 'png', jpeg_pipe: 'mjpeg', webp_pipe: 'webp' };

export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
export const MAX_IMAGE_SIDE = 8000;

/** Why a picture was refused; the message reads after "the image". */
export class ImageError extends Error {}

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

/** Output sizes; the picture covers the box (scaled to fill it, the overflow cropped from the centre). */
export interface ImageTarget {
  width: number;
  height: number;
  output: 'webp' | 'jpeg';
}

export const OUTPUTS = {
  webp: { ext: 'webp', contentType: 'image/webp' },
  jpeg: { ext: 'jpg', contentType: 'image/jpeg' },
} as const;

/** Options before the image's `-i` (ffmpeg) or before it (ffprobe). */
export function imageInputOptions(format?: ImageFormat): string[] {
  return [
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    IMAGE_FORMATS.join(','),
    ...(format ? ['-f', format] : []),
  ];
}

/** ffmpeg's arguments to redraw one picture at the target size; pure, for tests. */
export function resizeArgs(format: ImageFormat, target: ImageTarget, outFile: string): string[] {
  const { width: w, height: h } = target;
  const encoder =
    target.output === 'webp'
      ? ['-c:v', 'libwebp', '-quality', '85', '-f', 'webp']
      : ['-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p', '-f', 'mjpeg'];
  return [
    '-nostdin',
    '-v',
    'error',
    ...imageInputOptions(format),
    '-i',
    SOURCE_URL,
    '-frames:v',
    '1',
    '-vf',
    `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},setsar=1`,
    '-map_metadata',
    '-1',
    ...encoder,
    '-y',
    // `file:` so that a name can never be read as another protocol or an image sequence pattern.
    `file:${outFile}`,
  ];
}

interface ProbeOut {
  streams?: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number }>;
  format?: { format_name?: string; nb_streams?: number };
}

/** What the picture in `file` is; ImageError when it is not one Vireo takes. */
export async function probeImage(file: string): Promise<ImageInfo> {
  const { size } = await fs.stat(file);
  if (size === 0) throw new ImageError('is empty');
  if (size > MAX_IMAGE_BYTES) throw new ImageError(`is larger than ${MAX_IMAGE_BYTES} bytes`);
  let out: ProbeOut;
  try {
    const args = ['-v', 'error', ...imageInputOptions(), '-print_format', 'json'];
    const { stdout } = await runTool(
      mediaTools().ffprobe,
      [...args, '-show_format', '-show_streams', SOURCE_URL],
      { source: file, timeoutMs: 20_000 },
    );
    out = JSON.parse(stdout) as ProbeOut;
  } catch (err) {
    const { exitCode } = err as { exitCode?: number | null };
    // Killed, timed out or not started: nothing is known about the picture.
    if (exitCode === undefined || exitCode === null || exitCode > 125) throw err;
    throw new ImageError('is not a PNG, JPEG or WebP picture');
  }
  return imageInfoOf(out);
}

/** Pure check of ffprobe's answer, exported for tests. */
export function imageInfoOf(out: ProbeOut): ImageInfo {
  const format = IMAGE_FORMATS.find((f) => f === out.format?.format_name);
  const streams = out.streams ?? [];
  const [picture] = streams;
  if (
    !format ||
    streams.length !== 1 ||
    picture?.codec_type !== 'video' ||
    picture.codec_name !== CODECS[format]
  ) {
    throw new ImageError('is not a PNG, JPEG or WebP picture');
  }
  const { width, height } = picture;
  if (!width || !height) throw new ImageError('has no dimensions');
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new ImageError(`is larger than ${MAX_IMAGE_SIDE} pixels on a side (${width}x${height})`);
  }
  return { format, width, height };
}

export interface RenderedImage {
  data: Buffer;
  contentType: string;
  ext: string;
  source: ImageInfo;
}

/**
 * Checks the picture in `bytes` and redraws it at `target`; `scratch` is a folder for the two files.
 * ImageError when the picture is refused or cannot be decoded.
 */
export async function renderImage(
  bytes: Buffer,
  target: ImageTarget,
  scratch: string,
): Promise<RenderedImage> {
  if (bytes.length > MAX_IMAGE_BYTES) throw new ImageError(`is larger than ${MAX_IMAGE_BYTES} bytes`);
  await fs.mkdir(scratch, { recursive: true });
  const dir = await fs.mkdtemp(path.join(scratch, `image-${randomBytes(4).toString('hex')}-`));
  try {
    const input = path.join(dir, 'input');
    await fs.writeFile(input, bytes);
    const source = await probeImage(input);
    const { ext, contentType } = OUTPUTS[target.output];
    const output = path.join(dir, `output.${ext}`);
    try {
      await runFfmpeg(resizeArgs(source.format, target, output), { source: input, timeoutMs: 30_000 });
    } catch (err) {
      const { exitCode } = err as { exitCode?: number | null };
      // ffmpeg ran and said no: the picture's data is damaged (a header that probes, a body that does not).
      if (typeof exitCode === 'number' && exitCode > 0 && exitCode <= 125) {
        throw new ImageError('could not be decoded; it may be damaged');
      }
      throw err;
    }
    const data = await fs.readFile(output);
    if (data.length === 0) throw new ImageError('could not be decoded; it may be damaged');
    return { data, contentType, ext, source };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
