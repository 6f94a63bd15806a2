// Sources for the media benchmarks, made with ffmpeg's lavfi generators, and the timing helpers the
// media benchmarks share: wall time, CPU time of child processes, medians.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { mediaTools } from '../../src/platform/media/tools.ts';

export interface SourceSpec {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  videoKbps: number;
  audioKbps: number;
}

export const seconds = (ms: number) => ms / 1000;
export const fixed = (s: number) => s.toFixed(2);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;

/**
 * CPU seconds used so far by our finished child processes (ffmpeg, ffprobe; the app runs in this
 * process). Other work on a shared machine stretches wall times, much less this.
 */
async function childCpu(): Promise<number> {
  const stat = await fs.readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS; // cutime + cstime
}

/** Wall time (as `work` answers it) and children's CPU time of one run, in seconds. */
export async function measured(work: () => Promise<number>): Promise<{ wall: number; cpu: number }> {
  const before = await childCpu();
  const wall = await work();
  return { wall, cpu: (await childCpu()) - before };
}

/** Runs ffmpeg to the end; answers its wall time in seconds. */
export function ffmpeg(args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(mediaTools().ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(seconds(performance.now() - started));
      else reject(new Error(`ffmpeg exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

/** A camera-like file: steady-rate H.264 High with 2 s GOPs, stereo AAC, index up front. */
export async function makeSource(dir: string, name: string, s: SourceSpec): Promise<string> {
  const file = path.join(dir, `${name}.mp4`);
  await ffmpeg([
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${s.width}x${s.height}:rate=${s.fps}:duration=${s.seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${s.seconds}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p'],
    ...['-b:v', `${s.videoKbps}k`, '-maxrate', `${s.videoKbps * 1.25}k`, '-bufsize', `${s.videoKbps * 2}k`],
    ...['-g', String(s.fps * 2), '-c:a', 'aac', '-b:a', `${s.audioKbps}k`, '-ac', '2'],
    ...['-movflags', '+faststart', '-shortest', file],
  ]);
  return file;
}

export function describeSource(s: SourceSpec): string {
  return `${s.seconds} s ${s.width}x${s.height} ${s.fps} fps H.264 ${s.videoKbps / 1000} Mbit/s + AAC`;
}
