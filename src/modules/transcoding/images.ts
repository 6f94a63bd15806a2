// Poster, thumbnails and the seek-preview storyboard of a video. The argument builders are pure; the
// stills (poster + thumbnails) take one ffmpeg run of their own, the storyboard sprite is drawn inside
// the encode's decode (encode-command's `storyboard` option) from storyboardFilter.
import fs from 'node:fs/promises';
import path from 'node:path';
import { runFfmpeg } from '../../platform/media/ffmpeg-runner.ts';
import { displaySize, type MediaInfo } from '../../platform/media/media-info.ts';
import { SOURCE_URL, sourceInputOptions } from '../../platform/media/source-input.ts';
import { POSTER_FILE, STORYBOARD_FILE, STORYBOARD_VTT_FILE, thumbnailFile } from '../videos/index.ts';

export interface ImageOptions {
  /** The poster fits in a square of this side, never upscaled. */
  posterMaxSide: number;
  thumbnailWidths: number[];
  tileWidth: number;
  maxTiles: number;
  maxColumns: number;
}

export const DEFAULT_IMAGES: ImageOptions = {
  posterMaxSide: 1280,
  thumbnailWidths: [320, 640, 1280],
  tileWidth: 160,
  maxTiles: 100,
  maxColumns: 10,
};

export interface ImageFile {
  /** Name relative to the output folder. */
  file: string;
  width: number;
  height: number;
}

export interface StoryboardLayout {
  /** Sprite name relative to the output folder; the VTT beside it refers to it by this name. */
  file: string;
  vtt: string;
  tileWidth: number;
  tileHeight: number;
  columns: number;
  rows: number;
  /** One tile per interval; the tile shows the middle of its interval. */
  intervalS: number;
  count: number;
  durationS: number;
}

export interface ImagePlan {
  poster: ImageFile;
  thumbnails: ImageFile[];
  storyboard: StoryboardLayout;
  /** Where the poster is looked for: a window a little into the video, sampled sparsely. */
  window: { startS: number; lengthS: number; sampleFps: number };
}

// Mean luma (0-255, limited range black is 16) under which a frame counts as black for the poster.
const BLACK_LUMA = 32;
const WINDOW_FRAMES = 20;

export function planImages(info: MediaInfo, opts: ImageOptions = DEFAULT_IMAGES): ImagePlan {
  const display = displaySize(info);
  const aspect = display.height / display.width;
  const d = info.durationS;

  const posterScale = Math.min(1, opts.posterMaxSide / Math.max(display.width, display.height));
  const poster = sized(POSTER_FILE, display.width * posterScale, aspect);
  // Thumbnails are scaled from the poster frame, so none is wider than the poster.
  const widths = opts.thumbnailWidths.filter((w) => w <= poster.width);
  if (widths.length === 0) widths.push(poster.width);
  const thumbnails = [...new Set(widths)].map((w) => sized(thumbnailFile(even(w)), w, aspect));

  const intervalS = Math.max(1, Math.ceil(d / opts.maxTiles));
  const offsetS = Math.min(intervalS / 2, d / 2);
  // A tile exists only if the middle of its interval is inside the video, a few frames from its end.
  const count = Math.max(1, Math.floor((d - offsetS - 0.05) / intervalS) + 1);
  const columns = Math.min(opts.maxColumns, count);
  const tile = sized(STORYBOARD_FILE, Math.min(opts.tileWidth, display.width), aspect);

  // Past the intro (often black or a logo) but early enough to be about the video; long enough that
  // a dark opening of a short clip does not fill it. Within the picture, where the sound runs longer.
  const v = info.videoDurationS ?? d;
  const startS = v < 2 ? 0 : round3(v * 0.1);
  const lengthS = round3(Math.max(0.5, Math.min(15, v * 0.8, v - startS)));
  return {
    poster,
    thumbnails,
    storyboard: {
      file: STORYBOARD_FILE,
      vtt: STORYBOARD_VTT_FILE,
      tileWidth: tile.width,
      tileHeight: tile.height,
      columns,
      rows: Math.ceil(count / columns),
      intervalS,
      count,
      durationS: d,
    },
    window: { startS, lengthS, sampleFps: round3(Math.min(info.fps || 30, WINDOW_FRAMES / lengthS)) },
  };
}

/** Poster and thumbnails from one decode of a short window. */
export function stillsArgs(input: string, plan: ImagePlan, outDir: string, inputFormat?: string): string[] {
  const { poster, thumbnails, window } = plan;
  const n = thumbnails.length;
  // `thumbnail` buffers its whole batch, so frames are scaled down before it and the batch is the
  // window (it flushes its best frame at the window's end). The non-black branch comes first in
  // `concat`; an all-dark window leaves it empty and the unfiltered pick is taken instead.
  // eof_action=pass: a window holding a single frame shorter than a sampling tick still yields it.
  const batch = Math.ceil(window.lengthS * window.sampleFps) + 2;
  const outs = thumbnails.map((_, i) => `[t${i}]`).join('');
  const filter = [
    `[0:v:0]fps=${window.sampleFps}:eof_action=pass,scale=${poster.width}:${poster.height},format=yuv420p,setsar=1,split=2[a][b]`,
    `[a]signalstats,metadata=mode=select:key=lavfi.signalstats.YAVG:function=greater:value=${BLACK_LUMA},thumbnail=n=${batch}[lit]`,
    `[b]thumbnail=n=${batch}[any]`,
    `[lit][any]concat=n=2:v=1:a=0,split=${n + 1}[p]${outs}`,
    ...thumbnails.map((t, i) => `[t${i}]scale=${t.width}:${t.height}[o${i}]`),
  ].join(';');
  const args = [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    // Before -i: a fast seek to the keyframe ahead, then exact decoding to the start.
    '-ss',
    String(window.startS),
    '-t',
    String(window.lengthS),
    ...sourceInputOptions(inputFormat),
    '-i',
    input,
    '-filter_complex',
    filter,
    ...jpeg('[p]', path.join(outDir, poster.file), 3),
  ];
  thumbnails.forEach((t, i) => {
    args.push(...jpeg(`[o${i}]`, path.join(outDir, t.file), 3));
  });
  return args;
}

/** The storyboard filter alone, so an encode that already decodes the source can add it as a branch. */
export function storyboardFilter(layout: StoryboardLayout): string {
  const offsetS = round3(Math.min(layout.intervalS / 2, layout.durationS / 2));
  // fps counts in whole output ticks, so it cannot start mid-interval: trim and restamp instead. The
  // last frame is held for one more interval first, so that a tick always finds one: without it, a
  // clip of a few frames, or a picture that stops before its sound, gets no tile at all.
  return [
    `tpad=stop_mode=clone:stop_duration=${layout.intervalS}`,
    `trim=start=${offsetS}`,
    'setpts=PTS-STARTPTS',
    `fps=fps=1/${layout.intervalS}`,
    `scale=${layout.tileWidth}:${layout.tileHeight}`,
    'setsar=1',
    `tile=${layout.columns}x${layout.rows}`,
  ].join(',');
}

/** WebVTT cues pointing into the sprite (the `#xywh` media fragment); the last cue ends the video. */
export function storyboardVtt(layout: StoryboardLayout): string {
  const cues = ['WEBVTT', ''];
  for (let i = 0; i < layout.count; i++) {
    const start = i * layout.intervalS;
    const end = i === layout.count - 1 ? layout.durationS : (i + 1) * layout.intervalS;
    const x = (i % layout.columns) * layout.tileWidth;
    const y = Math.floor(i / layout.columns) * layout.tileHeight;
    cues.push(
      `${timestamp(start)} --> ${timestamp(end)}`,
      `${layout.file}#xywh=${x},${y},${layout.tileWidth},${layout.tileHeight}`,
      '',
    );
  }
  return cues.join('\n');
}

function jpeg(label: string, file: string, quality: number): string[] {
  // -update: one image to a fixed name, without image2's numbered-sequence pattern.
  return ['-map', label, '-frames:v', '1', '-q:v', String(quality), '-update', '1', file];
}

function sized(file: string, width: number, aspect: number): ImageFile {
  const w = even(width);
  return { file, width: w, height: even(w * aspect) };
}

/** 4:2:0 chroma needs even sizes. */
function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function timestamp(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (v: number, n = 2) => String(v).padStart(n, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/**
 * Poster, thumbnails and the storyboard's VTT, for a pipeline that draws the storyboard sprite inside
 * the encode's own decode (encode-command's `storyboard` option) instead of decoding the source again.
 */
export async function makeStills(
  input: string,
  plan: ImagePlan,
  outDir: string,
  inputFormat?: string,
): Promise<void> {
  await Promise.all([
    runFfmpeg(stillsArgs(SOURCE_URL, plan, outDir, inputFormat), { source: input, timeoutMs: 120_000 }),
    fs.writeFile(path.join(outDir, plan.storyboard.vtt), storyboardVtt(plan.storyboard)),
  ]);
}
