// Media at speed, each on a real Vireo (tus upload, job worker, ffmpeg, store), medians of 3:
// - upload complete → ready for a 60 s 1080p30 source, against the same ladder encoded in the same run
//   by one raw ffmpeg command (the floor) and by one ffmpeg process per rung (what one decode saves);
// - last byte of the upload sent → playable for that source and for a 10-minute one: what the uploader
//   waits for, which must not grow with length;
// - a tus upload of 1 GiB over loopback against the simplest Node HTTP server that writes a request
//   body to a file (the floor of any upload over HTTP in Node), and, for information, `cp` of the same
//   file (which never leaves the kernel);
// - upload complete → ready for the 60 s source on the S3 driver (a local S3 server) against the
//   folder driver.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startS3Server } from '../scripts/lib/s3-server.ts';
import { loadConfig } from '../src/config.ts';
import { buildEncodeArgs } from '../src/modules/transcoding/encode-command.ts';
import { type LadderPlan, planLadder } from '../src/modules/transcoding/ladder.ts';
import type { MediaInfo } from '../src/platform/media/media-info.ts';
import { probe } from '../src/platform/media/probe.ts';
import {
  describeSource,
  ffmpeg,
  fixed,
  makeSource,
  measured,
  median,
  type SourceSpec,
} from './lib/media-source.ts';
import type { Benchmark, Metrics } from './lib/report.ts';
import { openScene } from './lib/scene.ts';
import { measureUploads } from './lib/upload-speed.ts';
import { describeStages, openVireo, STAGE_LABELS, type Stages } from './lib/vireo-session.ts';

// BENCH_SOURCE_SECONDS shortens the sources for a quick check of the benchmark itself.
const SHORT = Number(process.env.BENCH_SOURCE_SECONDS ?? 0) || null;
const SOURCE: SourceSpec = {
  width: 1920,
  height: 1080,
  fps: 30,
  seconds: SHORT ?? 60,
  videoKbps: 8000,
  audioKbps: 128,
};
// Ten minutes; a lower resolution keeps the run short, and first play depends on length only.
const LONG_SOURCE: SourceSpec = {
  width: 854,
  height: 480,
  fps: 30,
  seconds: SHORT ? SHORT * 2 : 600,
  videoKbps: 2000,
  audioKbps: 128,
};
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
/** How the runs are labelled: the sources' real length, shortened or not. */
const length = (s: SourceSpec) =>
  s.seconds >= 120 && s.seconds % 60 === 0 ? `${s.seconds / 60} min` : `${s.seconds} s`;
const SHORT_LABEL = `${length(SOURCE)} ${SOURCE.height}p`;
const LONG_LABEL = `${length(LONG_SOURCE)} ${LONG_SOURCE.height}p`;
const pad = (label: string) => label.padEnd(17);
// Default preset, CRF and segment length: what an operator gets without configuring them.
const MEDIA_ENV = { LADDER_RUNGS: '240,360,480,720,1080' };
const media = loadConfig(MEDIA_ENV).media;

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

function stageMedians(runs: Stages[]): Stages {
  return Object.fromEntries(
    (Object.keys(STAGE_LABELS) as (keyof Stages)[]).map((k) => [k, median(runs.map((s) => s[k]))]),
  ) as unknown as Stages;
}

async function run(progress: (line: string) => void): Promise<Metrics> {
  // Sources, the baselines' output and the app's data share one temporary folder (one disk).
  const scene = await openScene(progress, 'vireo-bench-transcode-');
  const load = () => `load ${os.loadavg()[0]!.toFixed(1)}`;
  try {
    const source = await makeSource(scene.dir, 'source-1080p', SOURCE);
    const longSource = await makeSource(scene.dir, 'source-10min', LONG_SOURCE);
    const info = await probe(source);
    progress(`sources: ${describeSource(SOURCE)}; ${describeSource(LONG_SOURCE)}`);
    const vireo = await openVireo(scene, MEDIA_ENV, 'fs');
    const s3 = await startS3Server();
    scene.defer(() => s3.stop());
    const vireoS3 = await openVireo(scene, { ...MEDIA_ENV, ...s3.env() }, 's3');

    const plan = planLadder(info, {
      rungs: media.rungs,
      segmentSeconds: media.segmentSeconds,
      crf: media.crf,
    });
    progress(
      `ladder: ${plan.renditions.map((r) => `${r.width}x${r.height}`).join(', ')}` +
        `${plan.audio ? ' + audio' : ''}; ${media.preset}, CRF ${media.crf}, ${media.segmentSeconds} s segments`,
    );

    const raw = async (): Promise<number> => {
      const out = await fs.mkdtemp(path.join(scene.dir, 'raw-'));
      try {
        return await encodeInto(info, plan, source, out);
      } finally {
        await fs.rm(out, { recursive: true, force: true });
      }
    };
    /** Each rung decodes the source again; the first one also carries the audio. */
    const perRung = async (): Promise<number> => {
      const out = await fs.mkdtemp(path.join(scene.dir, 'rung-'));
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

    const runs = { vireo: [] as number[], raw: [] as number[], rung: [] as number[] };
    const cpu = { vireo: [] as number[], raw: [] as number[], rung: [] as number[] };
    const playable = {
      short: [] as number[],
      long: [] as number[],
      commit: [] as number[],
      s3: [] as number[],
    };
    const onS3: number[] = [];
    const stageRuns: Stages[] = [];
    for (let i = 1; i <= REPEATS; i++) {
      const v = await measured(async () => {
        const t = await vireo.process(source);
        stageRuns.push(t.stages);
        playable.short.push(t.playable);
        playable.commit.push(t.playableAfterCommit);
        return t.ready;
      });
      runs.vireo.push(v.wall);
      cpu.vireo.push(v.cpu);
      progress(
        `${pad(`Vireo ${SHORT_LABEL}`)} run ${i}: playable ${fixed(playable.short.at(-1)!)} s after the last byte ` +
          `(${fixed(playable.commit.at(-1)!)} s after the commit), ready ${fixed(v.wall)} s, ` +
          `${fixed(v.cpu)} s CPU (${describeStages(stageRuns.at(-1)!)}; ${load()})`,
      );
      const r = await measured(raw);
      runs.raw.push(r.wall);
      cpu.raw.push(r.cpu);
      progress(`raw ffmpeg ladder run ${i}: ${fixed(r.wall)} s, ${fixed(r.cpu)} s CPU (${load()})`);
      const p = await measured(perRung);
      runs.rung.push(p.wall);
      cpu.rung.push(p.cpu);
      progress(`ffmpeg per rung   run ${i}: ${fixed(p.wall)} s, ${fixed(p.cpu)} s CPU (${load()})`);
      const viaS3 = await vireoS3.process(source);
      onS3.push(viaS3.ready);
      playable.s3.push(viaS3.playable);
      progress(
        `${pad('Vireo on S3')} run ${i}: playable ${fixed(viaS3.playable)} s, ready ${fixed(viaS3.ready)} s (${load()})`,
      );
      const long = await vireo.process(longSource);
      playable.long.push(long.playable);
      progress(
        `${pad(`Vireo ${LONG_LABEL}`)} run ${i}: playable ${fixed(long.playable)} s, ready ${fixed(long.ready)} s (${load()})`,
      );
    }
    progress(`Vireo stage medians (${SHORT_LABEL}): ${describeStages(stageMedians(stageRuns))}`);
    // Disk write-back makes single runs of these vary a lot: more of them.
    const uploads = await measureUploads(scene, vireo, Math.max(REPEATS, 5), progress);

    const v = median(runs.vireo);
    const r = median(runs.raw);
    const p = median(runs.rung);
    return {
      upload_to_playable_s: { value: median(playable.short), unit: 's', target: '<= 5' },
      upload_to_playable_10min_s: { value: median(playable.long), unit: 's', target: '<= 5' },
      commit_to_playable_s: { value: median(playable.commit), unit: 's' },
      s3_upload_to_playable_s: { value: median(playable.s3), unit: 's' },
      s3_ready_vs_fs_ratio: { value: median(onS3) / v, unit: 'x', target: '<= 1.2' },
      tus_vs_bare_http_ratio: {
        value: uploads.written.bare / uploads.written.tus,
        unit: 'x',
        target: '>= 0.9',
      },
      // For information: `cp` never leaves the kernel, so no upload over HTTP can match it.
      tus_vs_cp_ratio: { value: uploads.written.cp / uploads.written.tus, unit: 'x' },
      // The same, until the bytes are on disk: what an upload must reach to survive more than a crash.
      tus_vs_cp_on_disk_ratio: { value: uploads.durable.cp / uploads.durable.tus, unit: 'x' },
      tus_1gib_s: { value: uploads.written.tus, unit: 's' },
      cp_1gib_s: { value: uploads.written.cp, unit: 's' },
      bare_http_1gib_s: { value: uploads.written.bare, unit: 's' },
      ready_vs_raw_ffmpeg_ratio: { value: v / r, unit: 'x', target: '<= 1.10' },
      speedup_vs_per_rung: { value: p / v, unit: 'x', target: '>= 1.3' },
      vireo_ready_s: { value: v, unit: 's' },
      vireo_s3_ready_s: { value: median(onS3), unit: 's' },
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
    `last byte uploaded (tus) → playable, and upload complete → ready, for a ${describeSource(SOURCE)} source, ladder ` +
    `${MEDIA_ENV.LADDER_RUNGS} at ${media.preset} CRF ${media.crf}, vs the same ladder as one raw ffmpeg ` +
    `command and as one ffmpeg process per rung, and on the S3 driver; → playable for a ` +
    `${describeSource(LONG_SOURCE)} source; ` +
    `median of ${REPEATS}, interleaved`,
  run,
} satisfies Benchmark;
