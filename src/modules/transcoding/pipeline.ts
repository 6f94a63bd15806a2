// One processing run of one video: fetch source → probe → plan → one-decode encode → package →
// images → store → ready. Each run writes under a new media version, so a retry starts clean.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../config.ts';
import { runFfmpeg } from '../../platform/media/ffmpeg-runner.ts';
import { ProbeError, probe } from '../../platform/media/probe.ts';
import { percentOf } from '../../platform/media/progress.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import type { ProcessingStage, VideosService } from '../videos/index.ts';
import { buildEncodeArgs } from './encode-command.ts';
import { makeStills, planImages, storyboardFilter } from './images.ts';
import { planLadder } from './ladder.ts';
import { packageLadder } from './package.ts';

export interface PipelineDeps {
  videos: VideosService;
  store: ObjectStore;
  media: Config['media'];
  logger: Logger;
}

/** A failure that retrying cannot fix: the video is marked failed at once. */
export class MediaRejectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const mediaPrefix = (videoId: string, version: number) => `videos/${videoId}/${version}`;

export async function processVideo(
  deps: PipelineDeps,
  videoId: string,
  attempt: { current: number; max: number },
  /** Aborted when the worker shuts down: ffmpeg is stopped and the job goes back to the queue. */
  signal?: AbortSignal,
): Promise<'done' | 'skipped'> {
  const { videos, store, media, logger } = deps;
  const video = await videos.startProcessing(videoId);
  if (!video?.source_key) return 'skipped';
  const version = video.media_version;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `vireo-process-${videoId}-`));
  const progress = throttledProgress(videos, videoId);
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
    await videos.saveMediaInfo(videoId, info);

    const plan = planLadder(info, {
      rungs: media.rungs,
      segmentSeconds: media.segmentSeconds,
      crf: media.crf,
    });
    const out = path.join(work, 'out');
    const hlsDir = path.join(out, 'hls');
    for (const dir of [...plan.renditions.map((r) => r.name), ...(plan.audio ? ['audio'] : [])]) {
      await fs.mkdir(path.join(hlsDir, dir), { recursive: true });
    }
    await progress('encoding', 0, true);
    const images = path.join(out, 'images');
    await fs.mkdir(images, { recursive: true });
    const imagePlan = planImages(info);
    const args = buildEncodeArgs(info, plan, {
      input: source,
      outDir: hlsDir,
      playlistType: 'vod',
      preset: media.preset,
      // The storyboard sprite is drawn from the encode's own decode: no second pass over the source.
      storyboard: {
        filter: storyboardFilter(imagePlan.storyboard),
        file: path.join(images, imagePlan.storyboard.file),
      },
    });
    // The poster and thumbnails decode only a short window; they run beside the encode.
    const imagesDone = makeStills(source, imagePlan, images);
    imagesDone.catch(() => {}); // awaited below; avoid an unhandled rejection meanwhile
    await runFfmpeg(args, {
      signal,
      onProgress: (u) => void progress('encoding', percentOf(u, info.durationS)),
    });

    await progress('packaging', 0, true);
    const packaged = await packageLadder(plan, hlsDir, path.join(out, 'dash'));
    await progress('thumbnails', 0, true);
    await imagesDone;

    await uploadTree(store, out, mediaPrefix(videoId, version));
    await fs.rm(work, { recursive: true, force: true });
    await videos.markReady(videoId, version, packaged.renditions);
    await removeOlderVersions(store, videoId, version);
    return 'done';
  } catch (err) {
    // Clean up before the final state is announced: whoever hears `failed` finds nothing left over.
    await fs.rm(work, { recursive: true, force: true });
    await store.deletePrefix(`${mediaPrefix(videoId, version)}/`);
    const rejected = toRejection(err);
    if (rejected) {
      await videos.markFailed(videoId, rejected.code, rejected.message);
      return 'done';
    }
    logger.warn({ err, videoId, attempt: attempt.current }, 'processing failed');
    if (attempt.current >= attempt.max && !signal?.aborted) {
      await videos.markFailed(videoId, 'PROCESSING_FAILED', 'Processing failed; the owner can retry it');
      return 'done';
    }
    throw err; // retried by the job runner with backoff
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

function toRejection(err: unknown): MediaRejectedError | null {
  if (err instanceof MediaRejectedError) return err;
  if (err instanceof ProbeError) return new MediaRejectedError(err.code, err.message);
  return null;
}

/** Progress writes at most every 500 ms or on a stage change, so the database is not flooded. */
function throttledProgress(videos: VideosService, videoId: string) {
  let last = { stage: '', percent: -1, at: 0 };
  return async (stage: ProcessingStage, percent: number, force = false) => {
    const now = Date.now();
    if (!force && stage === last.stage && (percent <= last.percent || now - last.at < 500)) return;
    last = { stage, percent, at: now };
    await videos.reportProgress(videoId, stage, percent).catch(() => {});
  };
}

async function uploadTree(store: ObjectStore, root: string, prefix: string): Promise<void> {
  const files = (await fs.readdir(root, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
  // Segments first, playlists last: a reader never finds a playlist naming a segment not yet stored.
  const rank = (name: string) => (name.endsWith('.m3u8') || name.endsWith('.mpd') ? 1 : 0);
  files.sort((a, b) => rank(a.name) - rank(b.name));
  for (const f of files) {
    const full = path.join(f.parentPath, f.name);
    const key = `${prefix}/${path.relative(root, full).split(path.sep).join('/')}`;
    await store.putFile(key, full, { move: true });
  }
}

async function removeOlderVersions(store: ObjectStore, videoId: string, current: number): Promise<void> {
  for (let v = current - 1; v >= 1; v--) await store.deletePrefix(`${mediaPrefix(videoId, v)}/`);
}
