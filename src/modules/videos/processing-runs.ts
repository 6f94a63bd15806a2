// A processing run moves a video through the pipeline: processing → (playable →) ready | failed. Each
// update names its run; one of a run that no longer owns the video, or older than one applied, is
// ignored.
import client from 'prom-client';
import type { Db, Tx } from '../../platform/db/database.ts';
import type { FailureCode } from '../../platform/errors/codes.ts';
import { emit } from '../../platform/events/emit.ts';
import type { MediaInfo } from '../../platform/media/media-info.ts';
import type { Metrics } from '../../platform/observability/metrics.ts';
import { publish } from '../../platform/realtime/notify-hub.ts';
import { videoFailed, videoReady } from './events.ts';
import { canMove, type IgnoredUpdate, judgeUpdate, PROCESSING, type ProcessingRun } from './lifecycle.ts';
import type { VideoPublishing } from './publishing.ts';
import type { RenditionInfo, VideoPatch, VideoRow, VideoStatus } from './repo.ts';
import * as repo from './repo.ts';
import { type ProgressEvent, videoTopic } from './topics.ts';
import { announce, save } from './video-writes.ts';

export type ProcessingStage = 'probing' | 'encoding' | 'packaging' | 'thumbnails';

const FINAL: VideoStatus[] = ['ready', 'failed'];

function isFinal(status: VideoStatus): boolean {
  return FINAL.includes(status);
}

export class ProcessingRuns {
  /** Processing updates ignored: from a run that no longer owns the video, or older than one applied. */
  private readonly ignoredUpdates: client.Counter<'reason'>;

  constructor(
    private readonly db: Db,
    /** A video that becomes watchable publishes if it is due. */
    private readonly publishing: VideoPublishing,
    metrics: Pick<Metrics, 'registry'>,
  ) {
    this.ignoredUpdates = new client.Counter({
      name: 'video_processing_updates_ignored_total',
      help: 'Processing updates ignored because another run claimed the video or a newer one was applied',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
    for (const reason of ['stale_job', 'out_of_order'] as const) this.ignoredUpdates.inc({ reason }, 0);
  }

  /**
   * Claims a video for processing and answers the media version its outputs go to, or null when there
   * is nothing to do (deleted, or already finished by an earlier run of the same job). Each run makes a
   * new version, except one after a run that made its version playable and stopped: viewers may be
   * watching that version, so the run continues it. A `playable` video never goes back to `processing`.
   */
  async startProcessing(id: string, run?: ProcessingRun): Promise<VideoRow | null> {
    return this.db.transaction().execute(async (tx) => {
      const video = await repo.lockVideo(tx, id);
      if (!video?.source_key) return null;
      const playable = video.status === 'playable';
      const status = playable ? 'playable' : 'processing';
      // Ready, or failed for good: a job left over has nothing to do.
      if (!canMove(PROCESSING, video.status, status)) return null;
      const continues = playable && video.playback_version === video.media_version;
      const updated = await save(tx, video, {
        // This run's updates are the ones listened to from now on.
        processing_job_id: run?.jobId ?? null,
        processing_emitted_at: run?.emittedAt ?? null,
        status,
        media_version: continues ? video.media_version : video.media_version + 1,
        processing_stage: 'probing',
        processing_percent: 0,
        failure_code: null,
        failure_message: null,
      });
      await announce(tx, updated!);
      return updated!;
    });
  }

  async saveMediaInfo(id: string, info: MediaInfo): Promise<void> {
    await repo.updateVideo(this.db, id, { media_info: info });
  }

  async reportProgress(
    id: string,
    stage: ProcessingStage,
    percent: number,
    run?: ProcessingRun,
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await this.lockForRun(tx, id, run);
      if (!video) return;
      const status = await repo.updateProgress(tx, id, stage, percent, run?.emittedAt);
      if (status) await publish(tx, videoTopic(id), { status, stage, percent } satisfies ProgressEvent);
    });
  }

  /**
   * The video locked, if an update of `run` applies to it; an update of a run that no longer owns the
   * video, or older than one applied, is ignored (and counted).
   */
  private async lockForRun(
    tx: Tx,
    id: string,
    run: ProcessingRun | undefined,
  ): Promise<VideoRow | undefined> {
    const video = await repo.lockVideo(tx, id);
    if (!video) return undefined;
    const verdict = judgeUpdate(video, run);
    if (verdict === 'apply') return video;
    this.countIgnored(verdict);
    return undefined;
  }

  private countIgnored(reason: IgnoredUpdate): void {
    this.ignoredUpdates.inc({ reason });
  }

  /** What an applied update of `run` adds to its patch: the time it was sent. */
  private stamp(run: ProcessingRun | undefined): VideoPatch {
    return run ? { processing_emitted_at: run.emittedAt } : {};
  }

  /**
   * A run meant to continue a playable version finds that its output differs (another ffmpeg build or
   * settings): it goes on under a new version, while viewers keep theirs until the new one is playable.
   * Answers the new version, or null when a later run took over.
   */
  async startNewVersion(id: string, version: number): Promise<number | null> {
    return this.db.transaction().execute(async (tx) => {
      const video = await repo.lockVideo(tx, id);
      if (!video || video.media_version !== version || isFinal(video.status)) return null;
      await repo.updateVideo(tx, id, { media_version: version + 1 });
      return version + 1;
    });
  }

  /** The first segment of every rendition of run `version` is stored: viewers may start watching. */
  async markPlayable(id: string, version: number, run?: ProcessingRun): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await this.lockForRun(tx, id, run);
      if (!video || video.media_version !== version) return;
      if (video.status !== 'processing' && video.status !== 'playable') return;
      if (video.status === 'playable' && video.playback_version === version) return;
      const updated = await save(tx, video, {
        ...this.stamp(run),
        status: 'playable',
        playback_version: version,
      });
      await announce(tx, await this.publishing.publishIfDue(tx, updated!));
    });
  }

  async markReady(
    id: string,
    version: number,
    renditions: RenditionInfo[],
    run?: ProcessingRun,
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await this.lockForRun(tx, id, run);
      // A later run took over this video: this run's result is stale.
      if (!video || video.media_version !== version) return;
      if (!canMove(PROCESSING, video.status, 'ready') || video.status === 'ready') return;
      const updated = await save(tx, video, {
        ...this.stamp(run),
        status: 'ready',
        playback_version: version,
        renditions,
        processing_stage: null,
        processing_percent: 100,
        ready_at: new Date(),
      });
      await emit(
        tx,
        videoReady.create({
          aggregateId: id,
          payload: {
            video_id: id,
            owner_id: video.owner_id,
            duration_s: video.media_info?.durationS ?? null,
          },
        }),
      );
      await announce(tx, await this.publishing.publishIfDue(tx, updated!));
    });
  }

  /** Run `version` failed and will be retried: its outputs are gone, so viewers are no longer sent there. */
  async abandonRun(id: string, version: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await repo.lockVideo(tx, id);
      if (!video || video.media_version !== version || isFinal(video.status)) return;
      // Viewers of an earlier version keep it, and the video stays playable for them.
      const earlier = video.playback_version !== null && video.playback_version !== version;
      const updated = await save(tx, video, {
        status: earlier && video.status === 'playable' ? 'playable' : 'uploaded',
        processing_stage: null,
        processing_percent: 0,
        playback_version: video.playback_version === version ? null : video.playback_version,
      });
      await announce(tx, updated!);
    });
  }

  async markFailed(id: string, code: FailureCode, message: string, run?: ProcessingRun): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await this.lockForRun(tx, id, run);
      if (!video || !canMove(PROCESSING, video.status, 'failed')) return;
      const updated = await save(tx, video, {
        ...this.stamp(run),
        status: 'failed',
        failure_code: code,
        failure_message: message,
        processing_stage: null,
        // The failed run's outputs are removed; an earlier ready version stays watchable.
        playback_version: video.playback_version === video.media_version ? null : video.playback_version,
      });
      if (video.status !== 'failed') {
        await emit(
          tx,
          videoFailed.create({
            aggregateId: id,
            payload: { video_id: id, owner_id: video.owner_id, failure_code: code },
          }),
        );
      }
      await announce(tx, updated!);
    });
  }
}
