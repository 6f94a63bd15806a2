// Upload complete → ready for a 60 s 1080p30 source on a real Vireo (tus upload, job worker, ffmpeg,
// SSE), against the same ladder encoded in the same run by one raw ffmpeg command (the floor) and by one
// ffmpeg process per rung (what a one-decode pipeline saves). Runs interleave Vireo, raw and per-rung,
// three times; medians are reported.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { buildEncodeArgs } from '../src/modules/transcoding/encode-command.ts';
import { type LadderPlan, planLadder } from '../src/modules/transcoding/ladder.ts';
import { type ProgressEvent, videoTopic } from '../src/modules/videos/index.ts';
import type { MediaInfo } from '../src/platform/media/media-info.ts';
import { probe } from '../src/platform/media/probe.ts';
import { mediaTools } from '../src/platform/media/tools.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { NotifyHub } from '../src/platform/realtime/notify-hub.ts';
import type { Benchmark, Metrics } from './lib/report.ts';
import { openScene } from './lib/scene.ts';

// BENCH_SOURCE_SECONDS shortens the source for a quick check of the benchmark itself.
const SOURCE = {
  width: 1920,
  height: 1080,
  fps: 30,
  seconds: Number(process.env.BENCH_SOURCE_SECONDS ?? 60),
  videoKbps: 8000,
  audioKbps: 128,
};
const REPEATS = 3;
const READY_TIMEOUT_MS = 30 * 60_000;
const TUS = { 'tus-resumable': '1.0.0' };
// Default preset, CRF and segment length: what an operator gets without configuring them.
const MEDIA_ENV = { LADDER_RUNGS: '240,360,480,720,1080' };
const media = loadConfig(MEDIA_ENV).media;

const seconds = (ms: number) => ms / 1000;
const fixed = (s: number) => s.toFixed(2);

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
async function measured(work: () => Promise<number>): Promise<{ wall: number; cpu: number }> {
  const before = await childCpu();
  const wall = await work();
  return { wall, cpu: (await childCpu()) - before };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

/** Runs ffmpeg to the end; answers its wall time in seconds. */
function ffmpeg(args: string[]): Promise<number> {
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

async function makeSource(dir: string): Promise<string> {
  const { width, height, fps, seconds: s, videoKbps, audioKbps } = SOURCE;
  const file = path.join(dir, 'source.mp4');
  // A camera-like file: steady 8 Mbit/s H.264 High with 2 s GOPs, stereo AAC, index up front.
  await ffmpeg([
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${s}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${s}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p'],
    ...['-b:v', `${videoKbps}k`, '-maxrate', `${videoKbps * 1.25}k`, '-bufsize', `${videoKbps * 2}k`],
    ...['-g', String(fps * 2), '-c:a', 'aac', '-b:a', `${audioKbps}k`, '-ac', '2'],
    ...['-movflags', '+faststart', '-shortest', file],
  ]);
  return file;
}

/** The same folders the pipeline makes: the HLS muxer does not create them. */
async function encodeInto(
  info: MediaInfo,
  plan: LadderPlan,
  source: string,
  outDir: string,
): Promise<number> {
  const folders = [...plan.renditions.map((r) => r.name), ...(plan.audio ? ['audio'] : [])];
  for (const f of folders) await fs.mkdir(path.join(outDir, f), { recursive: true });
  const args = buildEncodeArgs(info, plan, {
    input: source,
    outDir,
    playlistType: 'vod',
    preset: media.preset,
  });
  return ffmpeg(args);
}

interface TimedEvent {
  at: number;
  event: string;
  data: ProgressEvent;
}

/** Subscribes (the subscription exists once this resolves) and collects events until ready or failed. */
async function openEvents(
  url: string,
  token: string,
): Promise<{ done: Promise<TimedEvent[]>; close(): void }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), READY_TIMEOUT_MS);
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events answered ${res.status}`);
  const done = (async () => {
    const events: TimedEvent[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const at = performance.now();
        buffer += decoder.decode(chunk, { stream: true });
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ at, event, data: JSON.parse(data) as ProgressEvent });
        }
      }
    } catch (err) {
      if (controller.signal.aborted)
        throw new Error(`no ready event within ${READY_TIMEOUT_MS / 60_000} min`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return events;
  })();
  return { done, close: () => controller.abort() };
}

/** Where one processing run spends its time, from the pipeline's own stage reports (seconds). */
interface Stages {
  pickup: number;
  link: number;
  probe: number;
  encode: number;
  package: number;
  finish: number;
}

const STAGE_LABELS: Record<keyof Stages, string> = {
  pickup: 'job pickup',
  link: 'source link',
  probe: 'probe+plan',
  encode: 'encode',
  package: 'packaging',
  finish: 'stills+store+ready',
};

/**
 * Every announcement of the video, as the hub delivers it (the SSE stream drops stage changes whose
 * percent is lower than the last one, so packaging and thumbnails never reach it).
 */
function stagesOf(marks: TimedEvent[]): Stages {
  const at = (pick: (e: ProgressEvent) => boolean, nth = 0) => {
    const found = marks.filter((m) => pick(m.data))[nth];
    if (!found) throw new Error(`no such announcement in ${JSON.stringify(marks.map((m) => m.data))}`);
    return found.at;
  };
  const stage = (s: string, nth = 0) => at((e) => e.status === 'processing' && e.stage === s, nth);
  const uploaded = at((e) => e.status === 'uploaded');
  const claimed = stage('probing', 0); // startProcessing
  const linked = stage('probing', 1); // the source is in the work folder
  const probed = stage('encoding');
  const encoded = stage('packaging');
  const packaged = stage('thumbnails');
  const ready = at((e) => e.status === 'ready');
  return {
    pickup: seconds(claimed - uploaded),
    link: seconds(linked - claimed),
    probe: seconds(probed - linked),
    encode: seconds(encoded - probed),
    package: seconds(packaged - encoded),
    finish: seconds(ready - packaged),
  };
}

function describeStages(s: Stages): string {
  return (Object.keys(STAGE_LABELS) as (keyof Stages)[])
    .map((k) => `${STAGE_LABELS[k]} ${fixed(s[k])}`)
    .join(', ');
}

async function run(progress: (line: string) => void): Promise<Metrics> {
  // The source, the baselines' output and the app's data share one temporary folder (one disk).
  const scene = await openScene(progress, 'vireo-bench-transcode-');
  const { logger, dir: work } = scene;
  try {
    const started = performance.now();
    const source = await makeSource(work);
    const bytes = await fs.readFile(source);
    const info = await probe(source);
    progress(
      `source: ${info.width}x${info.height} ${info.fps} fps ${info.durationS.toFixed(1)} s, ` +
        `${Math.round((bytes.length * 8) / info.durationS / 1000)} kbit/s, ${(bytes.length / 2 ** 20).toFixed(1)} MiB, ` +
        `made in ${fixed(seconds(performance.now() - started))} s`,
    );

    const config = loadConfig({
      ...MEDIA_ENV,
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: path.join(work, 'data'),
      DATABASE_URL: scene.databaseUrl,
      LOG_LEVEL: 'silent',
      ACCESS_TOKEN_TTL_SECONDS: '86400',
    });
    const app = await startApp(config, { role: 'all', logger: createLogger('silent') });
    scene.defer(() => app.stop());
    const url = app.url!;
    // A listener of our own sees every announcement, for the stage breakdown.
    const hub = new NotifyHub(scene.databaseUrl, logger);
    await hub.start();
    scene.defer(() => hub.stop());

    const registered = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'bench_user',
        email: 'bench@example.test',
        password: 'correct horse',
      }),
    });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
    const { access_token: token } = (await registered.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };

    const plan = planLadder(info, {
      rungs: media.rungs,
      segmentSeconds: media.segmentSeconds,
      crf: media.crf,
    });
    progress(
      `ladder: ${plan.renditions.map((r) => `${r.width}x${r.height}`).join(', ')}` +
        `${plan.audio ? ' + audio' : ''}; ${media.preset}, CRF ${media.crf}, ${media.segmentSeconds} s segments`,
    );

    /** A fresh video through tus; seconds from the commit of the upload's completion to `ready`. */
    const vireo = async (): Promise<{ total: number; stages: Stages }> => {
      const created = await fetch(`${url}/api/v1/uploads`, {
        method: 'POST',
        headers: {
          ...TUS,
          ...auth,
          'upload-length': String(bytes.length),
          'upload-metadata': `filename ${Buffer.from('source-1080p.mp4').toString('base64')}`,
        },
      });
      const id = created.headers.get('vireo-video-id');
      const location = created.headers.get('location');
      if (created.status !== 201 || !id || !location)
        throw new Error(`tus creation answered ${created.status}`);
      const marks: TimedEvent[] = [];
      const unsubscribe = hub.subscribe(videoTopic(id), (data) =>
        marks.push({ at: performance.now(), event: '', data: data as ProgressEvent }),
      );
      const events = await openEvents(`${url}/api/v1/videos/${id}/events`, token);
      try {
        const patched = await fetch(`${url}${location}`, {
          method: 'PATCH',
          headers: {
            ...TUS,
            ...auth,
            'content-type': 'application/offset+octet-stream',
            'upload-offset': '0',
          },
          body: bytes,
        });
        if (patched.status !== 204) throw new Error(`tus PATCH answered ${patched.status}`);
        const seen = await events.done;
        // `uploaded` is announced in the transaction that marks the upload complete and enqueues the
        // job: it arrives when that transaction commits, by the same path as `ready`.
        const uploaded = seen.find((e) => e.data.status === 'uploaded');
        const final = seen.at(-1);
        if (final?.event !== 'ready' || !uploaded) {
          throw new Error(`video ${id} ended with ${JSON.stringify(final?.data ?? seen.map((e) => e.data))}`);
        }
        // Our listener has its own connection: its copy of `ready` may come a moment after the stream's.
        for (let i = 0; i < 100 && !marks.some((m) => m.data.status === 'ready'); i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        return { total: seconds(final.at - uploaded.at), stages: stagesOf(marks) };
      } finally {
        events.close();
        unsubscribe();
      }
    };

    const raw = async (): Promise<number> => {
      const out = await fs.mkdtemp(path.join(work, 'raw-'));
      try {
        return await encodeInto(info, plan, source, out);
      } finally {
        await fs.rm(out, { recursive: true, force: true });
      }
    };

    /** Each rung decodes the source again; the first one also carries the audio. */
    const perRung = async (): Promise<number> => {
      const out = await fs.mkdtemp(path.join(work, 'rung-'));
      try {
        let total = 0;
        for (const [i, r] of plan.renditions.entries()) {
          const one: LadderPlan = { ...plan, renditions: [r], audio: i === 0 ? plan.audio : null };
          total += await encodeInto(info, one, source, out);
        }
        return total;
      } finally {
        await fs.rm(out, { recursive: true, force: true });
      }
    };

    const load = () => `load ${os.loadavg()[0]!.toFixed(1)}`;
    const runs = { vireo: [] as number[], raw: [] as number[], rung: [] as number[] };
    const cpu = { vireo: [] as number[], raw: [] as number[], rung: [] as number[] };
    const stageRuns: Stages[] = [];
    for (let i = 1; i <= REPEATS; i++) {
      const v = await measured(async () => {
        const { total, stages } = await vireo();
        stageRuns.push(stages);
        return total;
      });
      runs.vireo.push(v.wall);
      cpu.vireo.push(v.cpu);
      progress(
        `Vireo upload→ready  run ${i}: ${fixed(v.wall)} s, ${fixed(v.cpu)} s CPU ` +
          `(${describeStages(stageRuns.at(-1)!)}; ${load()})`,
      );
      const r = await measured(raw);
      runs.raw.push(r.wall);
      cpu.raw.push(r.cpu);
      progress(`raw ffmpeg ladder   run ${i}: ${fixed(r.wall)} s, ${fixed(r.cpu)} s CPU (${load()})`);
      const p = await measured(perRung);
      runs.rung.push(p.wall);
      cpu.rung.push(p.cpu);
      progress(`ffmpeg per rung     run ${i}: ${fixed(p.wall)} s, ${fixed(p.cpu)} s CPU (${load()})`);
    }
    const stageMedians = Object.fromEntries(
      (Object.keys(STAGE_LABELS) as (keyof Stages)[]).map((k) => [k, median(stageRuns.map((s) => s[k]))]),
    ) as unknown as Stages;
    progress(`Vireo stage medians: ${describeStages(stageMedians)}`);

    const v = median(runs.vireo);
    const r = median(runs.raw);
    const p = median(runs.rung);
    return {
      ready_vs_raw_ffmpeg_ratio: { value: v / r, unit: 'x', target: '<= 1.10' },
      speedup_vs_per_rung: { value: p / v, unit: 'x', target: '>= 1.3' },
      vireo_ready_s: { value: v, unit: 's' },
      raw_ffmpeg_s: { value: r, unit: 's' },
      per_rung_s: { value: p, unit: 's' },
      // CPU of the media processes: the same comparison, less moved by other load on the machine.
      vireo_media_cpu_s: { value: median(cpu.vireo), unit: 's' },
      raw_ffmpeg_cpu_s: { value: median(cpu.raw), unit: 's' },
      per_rung_cpu_s: { value: median(cpu.rung), unit: 's' },
    };
  } finally {
    await scene.close();
  }
}

export default {
  description:
    `upload complete (tus) → ready for a ${SOURCE.seconds} s ${SOURCE.width}x${SOURCE.height} ${SOURCE.fps} fps ` +
    `H.264 ${SOURCE.videoKbps / 1000} Mbit/s + AAC source (lavfi testsrc2 + sine), ladder ` +
    `${MEDIA_ENV.LADDER_RUNGS} at ${media.preset} CRF ${media.crf}, vs the same ladder as one raw ffmpeg ` +
    `command and as one ffmpeg process per rung; median of ${REPEATS}, interleaved`,
  run,
} satisfies Benchmark;
