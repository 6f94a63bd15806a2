// One processing run of one video: fetch source → probe → plan → one-decode encode, whose segments are
// stored as they are made (playable after the first of each rendition) → final manifests → images →
// ready. Each run writes under a new media version, so a retry starts clean; except after a run that
// made its version playable and stopped: viewers may be watching it, so the retry continues it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../../config.ts';
import { runFfmpeg } from '../../platform/media/ffmpeg-runner.ts';
import { probe } from '../../platform/media/probe.ts';
import { percentAt, percentOf } from '../../platform/media/progress.ts';
import { demuxerOf, SOURCE_URL } from '../../platform/media/source-input.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import {
  imagePath,
  mediaKey,
  type ProcessingRun,
  type ProcessingStage,
  type VideosService,
  versionFolder,
  versionPrefix,
  videoFolders,
} from '../videos/index.ts';
import { buildEncodeArgs } from './encode-command.ts';
import { type ImagePlan, makeStills, planImages, storyboardFilter } from './images.ts';
import { planLadder } from './ladder.ts';
import { SegmentPublisher } from './publisher.ts';
import { exhaustedFailure, lastingFailure, MediaRejectedError } from './run-failure.ts';
import { openWorkspace } from './workspace.ts';

export interface PipelineDeps {
  videos: VideosService;
  store: ObjectStore;
  media: Config['media'];
  logger: Logger;
}

/** How often finished segments are looked for while ffmpeg runs. */
const PUBLISH_INTERVAL_MS = 150;

export async function processVideo(
  deps: PipelineDeps,
  videoId: string,
  attempt: { jobId: string; current: number; max: number },
  /** Aborted when the worker shuts down: ffmpeg is stopped and the job goes back to the queue. */
  signal?: AbortSignal,
): Promise<'done' | 'skipped'> {
  const { videos, store, media, logger } = deps;
  // Every update names this run and when it was sent: one of an older run, or one overtaken by a
  // later update of this run, is ignored by the videos module.
  const run = () => ({ jobId: attempt.jobId, emittedAt: new Date() });
  const video = await videos.runs.startProcessing(videoId, run());
  if (!video?.source_key) return 'skipped';
  let version = video.media_version;
  let prefix = versionPrefix(videoId, version);
  // An earlier run made this version playable, then stopped: this run continues it (see publisher.ts).
  const continues = video.status === 'playable' && video.playback_version === version;
  /** Viewers may be following this version's playlists. */
  let watched = continues;
  // Also removes what a dead earlier run of this video left on this machine.
  const work = await openWorkspace(media.workDir, {
    videoId,
    version,
    jobId: attempt.jobId,
    attempt: attempt.current,
  });
  const progress = throttledProgress(videos, videoId, run);
  let stills: Promise<void> | null = null;
  try {
    const source = path.join(work, 'source');
    await store.download(video.source_key, source);

    await progress('probing', 0, true);
    const info = await probe(source);
    if (info.durationS > media.maxDurationSeconds) {
      throw new MediaRejectedError(
        'DURATION_TOO_LONG',
        `The video lasts ${Math.round(info.durationS)} s; the limit is ${media.maxDurationSeconds} s`,
      );
    }
    await videos.runs.saveMediaInfo(videoId, info);

    const plan = planLadder(info, {
      rungs: media.rungs,
      segmentSeconds: media.segmentSeconds,
      crf: media.crf,
    });
    const hlsDir = path.join(work, 'hls');
    for (const dir of [...plan.renditions.map((r) => r.name), ...(plan.audio ? ['audio'] : [])]) {
      await fs.mkdir(path.join(hlsDir, dir), { recursive: true });
    }
    const imagesDir = path.join(work, 'images');
    await fs.mkdir(imagesDir, { recursive: true });
    const imagePlan = planImages(info);
    // ffmpeg reads the source as a descriptor, only as the container the probe found (source-input.ts).
    const inputFormat = demuxerOf(info.container);
    const args = buildEncodeArgs(info, plan, {
      input: SOURCE_URL,
      inputFormat,
      outDir: hlsDir,
      playlistType: 'event',
      preset: media.preset,
      // The storyboard sprite is drawn from the encode's own decode: no second pass over the source.
      storyboard: {
        filter: storyboardFilter(imagePlan.storyboard),
        file: path.join(imagesDir, imagePlan.storyboard.file),
      },
    });

    // Poster and thumbnails decode only a short window. They start once the video plays, so they do
    // not compete with its first segments for the CPU.
    const startStills = () => {
      stills ??= makeStills(source, imagePlan, imagesDir, inputFormat).then(() =>
        storeImages(store, imagesDir, prefix, stillFiles(imagePlan)),
      );
      return stills;
    };
    const publisher = new SegmentPublisher({
      store,
      prefix,
      hlsDir,
      plan,
      onPlayable: async () => {
        await videos.runs.markPlayable(videoId, version, run());
        watched = true;
        startStills().catch(() => {}); // awaited below
      },
      resume: continues
        ? {
            newVersion: async () => {
              const next = await videos.runs.startNewVersion(videoId, version);
              if (next === null) throw new Error('a later run took over this video');
              logger.warn(
                { videoId, version, next },
                'the encode differs from the playable version: new version',
              );
              version = next;
              prefix = versionPrefix(videoId, version);
              watched = false;
              return prefix;
            },
          }
        : undefined,
    });

    await progress('encoding', 0, true);
    await encodeWhilePublishing(args, publisher, {
      source,
      signal,
      onProgress: (percent) => void progress('encoding', percent),
      durationS: info.durationS,
    });

    await progress('packaging', 0, true);
    const final = await publisher.finish();
    await progress('thumbnails', 0, true);
    await startStills();
    await storeImages(store, imagesDir, prefix, [imagePlan.storyboard.file]);

    await fs.rm(work, { recursive: true, force: true });
    await videos.runs.markReady(videoId, version, final.renditions, run());
    await removeOlderVersions(store, videoId, version);
    return 'done';
  } catch (err) {
    // Clean up before the final state is announced: whoever hears `failed` finds nothing left over.
    // Stills store images under the prefix about to be removed. (A cast: TypeScript does not see the
    // assignment made inside startStills.)
    await (stills as Promise<void> | null)?.catch(() => {});
    await fs.rm(work, { recursive: true, force: true });
    // The stage the run had reached, as last reported.
    const stage = ((await videos.get(videoId).catch(() => undefined))?.processing_stage ??
      'probing') as ProcessingStage;
    const lasting = signal?.aborted ? null : lastingFailure(err, stage, work);
    const last = lasting !== null || (attempt.current >= attempt.max && !signal?.aborted);
    // A version viewers may be watching stays, as it is, for the retry to continue.
    if (last || !watched) await store.deletePrefix(versionFolder(videoId, version));
    if (lasting) {
      logger.info({ err, videoId, stage }, 'processing failed for good');
      await videos.runs.markFailed(videoId, lasting.code, lasting.message, run());
      return 'done';
    }
    logger.warn({ err, videoId, stage, attempt: attempt.current }, 'processing failed');
    if (last) {
      const exhausted = exhaustedFailure(err, stage, work);
      await videos.runs.markFailed(videoId, exhausted.code, exhausted.message, run());
      return 'done';
    }
    if (!watched) await videos.runs.abandonRun(videoId, version);
    throw err; // retried by the job runner with backoff
  } finally {
    await fs.rm(work, { recursive: true, force: true });
    // Deleted while this run was storing its outputs: what it stored after the removal goes too.
    if ((await videos.get(videoId).catch(() => null)) === undefined) {
      for (const folder of videoFolders(videoId)) await store.deletePrefix(folder).catch(() => {});
    }
  }
}

/**
 * Runs the encode and, beside it, stores its segments as they are finished. A storing failure stops
 * ffmpeg; a shutdown (signal) stops both.
 */
async function encodeWhilePublishing(
  args: string[],
  publisher: SegmentPublisher,
  opts: { source: string; signal?: AbortSignal; onProgress: (percent: number) => void; durationS: number },
): Promise<void> {
  const stop = new AbortController();
  const forward = () => stop.abort(opts.signal?.reason);
  if (opts.signal?.aborted) forward();
  else opts.signal?.addEventListener('abort', forward, { once: true });
  let finished = false;
  const encoding = runFfmpeg(args, {
    source: opts.source,
    signal: stop.signal,
    onProgress: (u) => opts.onProgress(percentOf(u, opts.durationS)),
  }).finally(() => {
    finished = true;
  });
  const settled = encoding.then(
    () => {},
    () => {},
  );
  const publishing = (async () => {
    try {
      while (!finished) {
        await publisher.sync();
        // ffmpeg 5 reports no progress until every output has started, and the storyboard's starts at
        // the end: the stored segments say how far the encode is, whatever ffmpeg runs.
        opts.onProgress(percentAt(publisher.encodedSeconds, opts.durationS));
        await Promise.race([delay(PUBLISH_INTERVAL_MS), settled]);
      }
    } catch (err) {
      stop.abort(err);
      throw err;
    }
  })();
  try {
    const [encoded, published] = await Promise.allSettled([encoding, publishing]);
    if (published.status === 'rejected') throw published.reason;
    if (encoded.status === 'rejected') throw encoded.reason;
  } finally {
    opts.signal?.removeEventListener('abort', forward);
  }
}

function stillFiles(plan: ImagePlan): string[] {
  return [plan.poster.file, ...plan.thumbnails.map((t) => t.file), plan.storyboard.vtt];
}

async function storeImages(store: ObjectStore, dir: string, prefix: string, files: string[]): Promise<void> {
  for (const file of files) {
    await store.putFile(mediaKey(prefix, imagePath(file)), path.join(dir, file), { move: true });
  }
}

/** Progress writes at most every 500 ms or on a stage change, so the database is not flooded. */
function throttledProgress(videos: VideosService, videoId: string, run: () => ProcessingRun) {
  let last = { stage: '', percent: -1, at: 0 };
  return async (stage: ProcessingStage, percent: number, force = false) => {
    const now = Date.now();
    if (!force && stage === last.stage && (percent <= last.percent || now - last.at < 500)) return;
    last = { stage, percent, at: now };
    await videos.runs.reportProgress(videoId, stage, percent, run()).catch(() => {});
  };
}

async function removeOlderVersions(store: ObjectStore, videoId: string, current: number): Promise<void> {
  for (let v = current - 1; v >= 1; v--) await store.deletePrefix(versionFolder(videoId, v));
}
