// ffprobe → MediaInfo. A file that cannot become a video is refused with a code, never a crash.

import fs from 'node:fs/promises';
import type { FailureCode } from '../errors/codes.ts';
import type { MediaInfo } from './media-info.ts';
import { SOURCE_URL, sourceInputOptions } from './source-input.ts';
import { mediaTools, runTool } from './tools.ts';

/** What the probe refuses a file with; the codes are in the one table (platform/errors/codes.ts). */
export type ProbeFailure = Extract<
  FailureCode,
  'FILE_EMPTY' | 'FILE_CORRUPT' | 'UNSUPPORTED_FORMAT' | 'NO_VIDEO_STREAM'
>;

export class ProbeError extends Error {
  constructor(
    readonly code: ProbeFailure,
    message: string,
  ) {
    super(message);
  }
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  bits_per_raw_sample?: string;
  field_order?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  bit_rate?: string;
  channels?: number;
  sample_rate?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number }>;
  disposition?: { attached_pic?: number };
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; bit_rate?: string };
}

export async function probe(file: string): Promise<MediaInfo> {
  const stat = await fs.stat(file);
  if (stat.size === 0) throw new ProbeError('FILE_EMPTY', 'The file is empty');
  let out: FfprobeOutput;
  try {
    const { stdout } = await runTool(
      mediaTools().ffprobe,
      [
        '-v',
        'error',
        ...sourceInputOptions(),
        '-print_format',
        'json',
        '-show_format',
        '-show_streams',
        SOURCE_URL,
      ],
      { source: file },
    );
    out = JSON.parse(stdout) as FfprobeOutput;
  } catch (err) {
    const { exitCode, stderr } = err as { exitCode?: number | null; stderr?: string };
    // Killed, timed out or not started: nothing is known about the file, and a retry may do better.
    if (exitCode === undefined || exitCode === null || exitCode > 125) throw err;
    // A playlist, a list of other files or any container outside the allowed ones.
    if (/not on whitelist/.test(stderr ?? '')) {
      throw new ProbeError('UNSUPPORTED_FORMAT', 'The file is not a video format Vireo can read');
    }
    // A file that starts like a known container but cannot be read is damaged; anything else is
    // simply not a format we know.
    if (await looksLikeContainer(file)) {
      throw new ProbeError('FILE_CORRUPT', 'The file could not be read; it may be damaged or incomplete');
    }
    throw new ProbeError('UNSUPPORTED_FORMAT', 'The file is not a video format Vireo can read');
  }
  return toMediaInfo(out);
}

/** Pure mapping from ffprobe's JSON, exported for tests. */
export function toMediaInfo(out: FfprobeOutput): MediaInfo {
  const streams = out.streams ?? [];
  // Cover art in audio files is a "video" stream too; it is not a video.
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) throw new ProbeError('NO_VIDEO_STREAM', 'The file has no video stream');
  if (!video.width || !video.height)
    throw new ProbeError('FILE_CORRUPT', 'The video stream has no dimensions');
  const audio = streams.find((s) => s.codec_type === 'audio');
  const durationS = Number.parseFloat(out.format?.duration ?? video.duration ?? '');
  if (!Number.isFinite(durationS) || durationS <= 0) {
    throw new ProbeError('FILE_CORRUPT', 'The video has no readable duration');
  }
  const bitRate = Number.parseInt(out.format?.bit_rate ?? video.bit_rate ?? '', 10);
  const videoDurationS = Number.parseFloat(video.duration ?? '');
  return {
    container: out.format?.format_name ?? 'unknown',
    durationS,
    ...(videoDurationS > 0 && videoDurationS < durationS ? { videoDurationS } : {}),
    width: video.width,
    height: video.height,
    rotation: rotationOf(video),
    fps: frameRate(video.avg_frame_rate) || frameRate(video.r_frame_rate) || 30,
    videoCodec: video.codec_name ?? 'unknown',
    pixelFormat: video.pix_fmt ?? 'unknown',
    bitDepth: bitDepthOf(video),
    interlaced: ['tt', 'bb', 'tb', 'bt'].includes(video.field_order ?? ''),
    bitRate: Number.isFinite(bitRate) ? bitRate : null,
    audio: audio
      ? {
          codec: audio.codec_name ?? 'unknown',
          channels: audio.channels ?? 2,
          sampleRate: Number.parseInt(audio.sample_rate ?? '48000', 10),
        }
      : null,
  };
}

async function looksLikeContainer(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(16), 0, 16, 0);
    const head = buffer.subarray(0, bytesRead);
    const ascii = (from: number, to: number) => head.subarray(from, to).toString('latin1');
    return (
      ['ftyp', 'moov', 'mdat', 'free', 'wide'].includes(ascii(4, 8)) || // MP4 / QuickTime
      head.readUInt32BE(0) === 0x1a45dfa3 || // Matroska / WebM
      ['RIFF', 'OggS'].includes(ascii(0, 4)) ||
      ascii(0, 3) === 'FLV' ||
      head.readUInt32BE(0) === 0x000001ba || // MPEG program stream
      (head[0] === 0x47 && bytesRead >= 1) // MPEG transport stream sync byte
    );
  } catch {
    return false;
  } finally {
    await handle.close();
  }
}

function frameRate(value: string | undefined): number {
  if (!value) return 0;
  const [num, den] = value.split('/').map(Number);
  if (!num || !den) return 0;
  return num / den;
}

/** Display-matrix rotation is counter-clockwise in ffprobe (-90 = turn 90° clockwise to show). */
function rotationOf(s: FfprobeStream): MediaInfo['rotation'] {
  const matrix = s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const raw = matrix !== undefined ? -matrix : Number(s.tags?.rotate ?? 0);
  const r = (((Math.round(raw / 90) * 90) % 360) + 360) % 360;
  return r as MediaInfo['rotation'];
}

function bitDepthOf(s: FfprobeStream): number {
  const raw = Number.parseInt(s.bits_per_raw_sample ?? '', 10);
  if (Number.isFinite(raw) && raw > 0) return raw;
  const m = /p(\d+)(le|be)$/.exec(s.pix_fmt ?? '');
  return m ? Number(m[1]) : 8;
}
