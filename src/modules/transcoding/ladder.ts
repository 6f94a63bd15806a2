// The rendition ladder: a pure function from a source's media info to the renditions to encode.
import { displaySize, type MediaInfo } from '../../platform/media/media-info.ts';

export interface Rendition {
  /** e.g. "720p": the rung is named by the short side, so portrait and landscape share rungs. */
  name: string;
  width: number;
  height: number;
  fps: number;
  crf: number;
  maxrateKbps: number;
  bufsizeKbps: number;
}

export interface AudioRendition {
  codec: 'aac';
  channels: 2;
  sampleRate: 48_000;
  bitrateKbps: number;
}

export interface LadderPlan {
  renditions: Rendition[];
  audio: AudioRendition | null;
  segmentSeconds: number;
}

export interface LadderOptions {
  /** Rung sizes by short side, e.g. [240, 360, 480, 720, 1080, 1440, 2160]. */
  rungs: number[];
  segmentSeconds: number;
  crf: number;
}

export const DEFAULT_LADDER: LadderOptions = {
  rungs: [240, 360, 480, 720, 1080, 1440, 2160],
  segmentSeconds: 4,
  crf: 23,
};

// Peak rates at 30 fps for each rung (kbit/s): caps on the CRF encode so a rung never exceeds what
// its bandwidth class can carry; scaled by 1.5 for 31-60 fps.
const MAXRATE_30FPS: Array<[number, number]> = [
  [240, 400],
  [360, 800],
  [480, 1400],
  [720, 2800],
  [1080, 5000],
  [1440, 10_000],
  [2160, 18_000],
];

const MAX_FPS = 60;

export function planLadder(info: MediaInfo, opts: LadderOptions = DEFAULT_LADDER): LadderPlan {
  const display = displaySize(info);
  const short = Math.min(display.width, display.height);
  const portrait = display.height > display.width;
  const aspect = Math.max(display.width, display.height) / short;
  const sourceFps = normaliseFps(info.fps);

  const sizes = [...new Set(opts.rungs)].sort((a, b) => a - b).filter((p) => p <= short);
  // A source smaller than the smallest rung still gets one rendition, at its own size.
  if (sizes.length === 0) sizes.push(even(short));

  const renditions = sizes.map((p): Rendition => {
    const shortSide = even(p);
    const longSide = even(p * aspect);
    const fps = p <= 480 && sourceFps > 30 ? round3(sourceFps / 2) : sourceFps;
    const maxrate = Math.round(rateFor(p) * (fps > 30 ? 1.5 : 1));
    return {
      name: `${p}p`,
      width: portrait ? shortSide : longSide,
      height: portrait ? longSide : shortSide,
      fps,
      crf: opts.crf,
      maxrateKbps: maxrate,
      bufsizeKbps: maxrate * 2,
    };
  });

  return {
    renditions,
    audio: info.audio ? { codec: 'aac', channels: 2, sampleRate: 48_000, bitrateKbps: 128 } : null,
    segmentSeconds: opts.segmentSeconds,
  };
}

/** Frame rate kept up to 60; above that, halved until it fits (120 → 60, 90 → 45). */
function normaliseFps(fps: number): number {
  let f = fps > 0 && Number.isFinite(fps) ? fps : 30;
  while (f > MAX_FPS + 0.01) f /= 2;
  return round3(f);
}

function rateFor(p: number): number {
  for (const [height, rate] of MAXRATE_30FPS) if (p <= height) return rate;
  return MAXRATE_30FPS.at(-1)![1];
}

/** H.264 with 4:2:0 chroma needs even dimensions; never below 2. */
function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
