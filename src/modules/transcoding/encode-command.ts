// Builds the one ffmpeg command that decodes a source once and encodes every rendition of the ladder
// into CMAF (fMP4) HLS segments. Pure: returns arguments, runs nothing.
import type { MediaInfo } from '../../platform/media/media-info.ts';
import { sourceInputOptions } from '../../platform/media/source-input.ts';
import type { LadderPlan } from './ladder.ts';

export interface EncodeCommandOptions {
  input: string;
  /** The demuxer the probe found (`-f`); the input is opened only as an allowed container anyway. */
  inputFormat?: string;
  outDir: string;
  /** `event` while segments are still being added (playable early), `vod` for a finished list. */
  playlistType: 'event' | 'vod';
  preset?: string;
  /** Also draw the storyboard sprite from the same decode: a filter ending in `tile`, and its file. */
  storyboard?: { filter: string; file: string };
}

export function buildEncodeArgs(info: MediaInfo, plan: LadderPlan, opts: EncodeCommandOptions): string[] {
  const n = plan.renditions.length + (opts.storyboard ? 1 : 0);
  const seg = plan.segmentSeconds;
  const first = firstSegmentSeconds(seg);
  // One decode, split N ways. Deinterlace first so every rung gets progressive frames.
  const pre = info.interlaced ? 'yadif=mode=send_frame:deint=interlaced,' : '';
  const labels = Array.from({ length: n }, (_, i) => `[s${i}]`).join('');
  const branches = plan.renditions.map(
    (r, i) => `[s${i}]fps=${r.fps},scale=${r.width}:${r.height}:flags=bicubic,format=yuv420p,setsar=1[v${i}]`,
  );
  if (opts.storyboard) branches.push(`[s${n - 1}]${opts.storyboard.filter}[sb]`);
  const filter = `[0:v:0]${pre}split=${n}${labels};${branches.join(';')}`;

  const args = [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    '-progress',
    'pipe:1',
    ...sourceInputOptions(opts.inputFormat),
    '-i',
    opts.input,
  ];
  args.push('-filter_complex', filter);
  plan.renditions.forEach((r, i) => {
    const gop = Math.max(1, Math.round(r.fps * seg));
    args.push(
      '-map',
      `[v${i}]`,
      '-an',
      '-c:v',
      'libx264',
      '-preset',
      opts.preset ?? 'veryfast',
      '-profile:v',
      'high',
      '-crf',
      String(r.crf),
      '-maxrate',
      `${r.maxrateKbps}k`,
      '-bufsize',
      `${r.bufsizeKbps}k`,
      // Keyframes at the same timestamps in every rung, and no scene-cut keyframes, so players can
      // switch rungs at any segment boundary. The first segment is shorter: every rung has one stored
      // (the video is playable) after half the encoding, whatever the machine's speed.
      '-g',
      String(gop),
      '-keyint_min',
      String(gop),
      '-sc_threshold',
      '0',
      '-force_key_frames',
      keyframeTimes(first, seg),
      // The muxer cuts at the first keyframe past n × hls_time: with keyframes at 0, first, first + seg,
      // … and hls_time = first, that is at every keyframe.
      ...hlsOutput(`${opts.outDir}/${r.name}`, first, opts.playlistType),
    );
  });
  if (opts.storyboard) {
    // -update: one image to a fixed name, without image2's numbered-sequence pattern.
    args.push('-map', '[sb]', '-frames:v', '1', '-q:v', '5', '-update', '1', opts.storyboard.file);
  }
  if (plan.audio) {
    args.push(
      '-map',
      '0:a:0',
      '-vn',
      '-c:a',
      'aac',
      '-b:a',
      `${plan.audio.bitrateKbps}k`,
      '-ac',
      String(plan.audio.channels),
      '-ar',
      String(plan.audio.sampleRate),
      // Audio is cut at hls_time alone: segments of the first one's length, so that audio is stored as
      // soon as the video's first segment.
      ...hlsOutput(`${opts.outDir}/audio`, first, opts.playlistType),
    );
  }
  return args;
}

/** Half a segment, for segments of 2 s or more; shorter ones stay as they are. */
export function firstSegmentSeconds(segmentSeconds: number): number {
  return segmentSeconds >= 2 ? segmentSeconds / 2 : segmentSeconds;
}

/** `-force_key_frames` for keyframes at 0, first, first + seg, first + 2 seg, … */
function keyframeTimes(first: number, seg: number): string {
  if (first === seg) return `expr:gte(t,n_forced*${seg})`;
  return `expr:if(eq(n_forced,0),1,gte(t,${first}+(n_forced-1)*${seg}))`;
}

function hlsOutput(dir: string, seg: number, playlistType: 'event' | 'vod'): string[] {
  return [
    '-f',
    'hls',
    '-hls_time',
    String(seg),
    '-hls_playlist_type',
    playlistType,
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_segment_filename',
    `${dir}/seg_%05d.m4s`,
    '-hls_flags',
    'independent_segments+temp_file',
    `${dir}/index.m3u8`,
  ];
}
