// The catalog's rules for a video's life: uploading → uploaded → processing → (playable →) ready | failed.
// The media pipeline moves a video only through these functions.

import client from 'prom-client';
import { uuidv7 } from 'uuidv7';
import type { Db, DbOrTx, Tx } from '../../platform/db/database.ts';
import type { FailureCode } from '../../platform/errors/codes.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import type { MediaInfo } from '../../platform/media/media-info.ts';
import type { Metrics } from '../../platform/observability/metrics.ts';
import { publish } from '../../platform/realtime/notify-hub.ts';
import { canManage, canSee, narrowsAudience, tierDecision } from './access.ts';
import {
  videoDeleted,
  videoFailed,
  videoModerated,
  videoPublished,
  videoReady,
  videoReprocessRequested,
  videoUnpublished,
  videoUpdated,
  videoVisibilityChanged,
} from './events.ts';
import { removeMediaJobType } from './jobs.ts';
import {
  assertDeletable,
  canMove,
  duePublication,
  type IgnoredUpdate,
  isWatchable,
  judgeUpdate,
  PROCESSING,
  type ProcessingRun,
  PUBLICATION,
  transition,
} from './lifecycle.ts';
import { videoFolders } from './media-layout.ts';
import type { PlaybackTokens } from './playback-tokens.ts';
import type {
  OwnerStatus,
  RenditionInfo,
  VideoAccessRow,
  VideoDetailRow,
  VideoPatch,
  VideoRow,
  VideoStatus,
} from './repo.ts';
import * as repo from './repo.ts';
import type { VideoEdit } from './schema.ts';

export type ProcessingStage = 'probing' | 'encoding' | 'packaging' | 'thumbnails';

export interface ProgressEvent {
  status: VideoStatus;
  stage: string | null;
  percent: number;
  failure_code?: string | null;
  failure_message?: string | null;
}

export const videoTopic = (id: string) => `video:${id}`;
/** Fewer people may watch this video than before: streams opened earlier check their viewer again. */
export const videoAccessTopic = (id: string) => `video-access:${id}`;
/** The same for every video of one owner (hidden or deleted). */
export const ownerAccessTopic = (ownerId: string) => `owner-access:${ownerId}`;

const FINAL: VideoStatus[] = ['ready', 'failed'];

export class VideosService {
  /** Processing updates ignored: from a run that no longer owns the video, or older than one applied. */
  private readonly ignoredUpdates: client.Counter<'reason'>;

  constructor(
    private readonly db: Db,
    /** Signs the media URLs of videos that are not public; the playback routes check them. */
    readonly tokens: PlaybackTokens,
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

  /** A video exists from the first byte of its upload. */
  /**
   * A video exists from the first byte of its upload. Unless the upload says otherwise it is scheduled
   * for now: it publishes as soon as it can be watched (`publishAt: null` keeps it a draft).
   */
  async register(
    db: DbOrTx,
    input: {
      id?: string;
      ownerId: string;
      title: string;
      filename: string | null;
      size: number | null;
      publishAt?: Date | null;
    },
  ): Promise<VideoRow> {
    const publishAt = input.publishAt === undefined ? new Date() : input.publishAt;
    return repo.insertVideo(db, {
      id: input.id ?? uuidv7(),
      owner_id: input.ownerId,
      title: input.title,
      source_filename: input.filename,
      source_size: input.size,
      publication: publishAt ? 'scheduled' : 'draft',
      publish_at: publishAt,
    });
  }

  /**
   * An upload created without its length learns it: the size held for it until then becomes the real
   * one. Only while it is uploading; the caller checks the quota.
   */
  async declareSourceSize(tx: DbOrTx, id: string, size: number): Promise<void> {
    await repo.updateUploadingSize(tx, id, size);
  }

  /** A video, locked until the transaction ends (uploads serialise their changes to one with it). */
  async lock(tx: DbOrTx, id: string): Promise<VideoRow | undefined> {
    return repo.lockVideo(tx, id);
  }

  /** Bytes of source a user's videos take or have declared (the upload quota counts them). */
  async sourceBytesOf(db: DbOrTx, ownerId: string): Promise<number> {
    return repo.sourceBytesOf(db, ownerId);
  }

  async uploadingCountOf(db: DbOrTx, ownerId: string): Promise<number> {
    return repo.uploadingCountOf(db, ownerId);
  }

  /** Videos still uploading that were registered longer ago than this. */
  async uploadingSince(seconds: number): Promise<string[]> {
    return repo.uploadingSince(this.db, seconds);
  }

  /** The upload is complete; the caller announces it in the same transaction. */
  async markUploaded(tx: DbOrTx, id: string, source: { key: string; size: number }): Promise<VideoRow> {
    const video = await repo.lockVideo(tx, id);
    if (!video) throw new DomainError('VIDEO_NOT_FOUND');
    if (video.status !== 'uploading') return video; // a repeated completion changes nothing
    const updated = await this.save(tx, video, {
      status: 'uploaded',
      source_key: source.key,
      source_size: source.size,
    });
    await this.announce(tx, updated!);
    return updated!;
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
      const updated = await this.save(tx, video, {
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
      await this.announce(tx, updated!);
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
      if (!video || video.media_version !== version || this.isFinal(video.status)) return null;
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
      const updated = await this.save(tx, video, {
        ...this.stamp(run),
        status: 'playable',
        playback_version: version,
      });
      await this.announce(tx, await this.publishIfDue(tx, updated!));
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
      const updated = await this.save(tx, video, {
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
      await this.announce(tx, await this.publishIfDue(tx, updated!));
    });
  }

  /** Run `version` failed and will be retried: its outputs are gone, so viewers are no longer sent there. */
  async abandonRun(id: string, version: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await repo.lockVideo(tx, id);
      if (!video || video.media_version !== version || this.isFinal(video.status)) return;
      // Viewers of an earlier version keep it, and the video stays playable for them.
      const earlier = video.playback_version !== null && video.playback_version !== version;
      const updated = await this.save(tx, video, {
        status: earlier && video.status === 'playable' ? 'playable' : 'uploaded',
        processing_stage: null,
        processing_percent: 0,
        playback_version: video.playback_version === version ? null : video.playback_version,
      });
      await this.announce(tx, updated!);
    });
  }

  async markFailed(id: string, code: FailureCode, message: string, run?: ProcessingRun): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await this.lockForRun(tx, id, run);
      if (!video || !canMove(PROCESSING, video.status, 'failed')) return;
      const updated = await this.save(tx, video, {
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
      await this.announce(tx, updated!);
    });
  }

  async get(id: string): Promise<VideoRow | undefined> {
    return repo.findVideo(this.db, id);
  }

  /** The video if the caller may see it; NOT_FOUND otherwise, so private ids are not disclosed. */
  async viewable(id: string, principal: Principal | null): Promise<VideoDetailRow> {
    const video = await repo.findVideoDetail(this.db, id);
    if (!video || !canSee(video, principal)) throw new DomainError('VIDEO_NOT_FOUND');
    return video;
  }

  /**
   * The video if the caller may watch it: VIDEO_NOT_FOUND as `viewable`, then MEMBERSHIP_REQUIRED or
   * PREMIUM_REQUIRED when its access tier asks for a membership the caller lacks.
   */
  async watchable(id: string, principal: Principal | null): Promise<VideoDetailRow> {
    const video = await this.viewable(id, principal);
    if (video.access_tier === 0) return video;
    const membership = principal ? await repo.membershipTierOf(this.db, video.owner_id, principal.userId) : 0;
    const decision = tierDecision(video, principal, membership);
    if (decision !== 'allow') throw new DomainError(decision);
    return video;
  }

  /** A page of the caller's own videos, in every state, newest first (`limit + 1` rows: toPage). */
  async listOwned(ownerId: string, page: { limit: number; beforeId?: string }): Promise<VideoDetailRow[]> {
    return repo.listOwned(this.db, ownerId, { limit: page.limit + 1, beforeId: page.beforeId });
  }

  /** The video as the catalog shows it (channel, views), whoever asks. */
  async detail(id: string): Promise<VideoDetailRow> {
    const video = await repo.findVideoDetail(this.db, id);
    if (!video) throw new DomainError('VIDEO_NOT_FOUND');
    return video;
  }

  /** The video with its owner's account status, for the decisions of access.ts; whoever asks. */
  async getWithOwner(id: string): Promise<VideoAccessRow | undefined> {
    return repo.findVideoWithOwner(this.db, id);
  }

  /**
   * The owner's account was hidden, deleted or restored (in the caller's transaction). Hiding or
   * deleting moves the access epoch of every video of theirs, so that no URL or token handed out
   * before still plays, and tells open streams to check their viewer again.
   */
  async ownerStatusChanged(tx: Tx, ownerId: string, status: OwnerStatus): Promise<void> {
    if (status === 'active') return;
    // A deleted account's videos go with it, stored objects included.
    if (status === 'deleted') await this.deleteAllOf(ownerId, tx);
    if ((await repo.bumpOwnerAccessEpochs(tx, ownerId)) > 0) {
      await publish(tx, ownerAccessTopic(ownerId), { status });
    }
  }

  /**
   * The owner or an admin deletes a video they took down (or never published): VIDEO_NOT_FOUND to
   * whoever may not see it, PERMISSION_DENIED to whoever sees it but does not manage it,
   * VIDEO_NOT_UNPUBLISHED while it is published.
   */
  async remove(id: string, principal: Principal): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await this.managed(tx, id, principal);
      assertDeletable(video);
      await this.deleteVideo(tx, id);
    });
  }

  /**
   * Deletes a video whatever its state (in the caller's transaction): the row now, every stored object
   * (source, every media version, an uploaded thumbnail) by a job enqueued in the same transaction, so
   * nothing is left behind if the process dies after the commit. Emits `video.deleted`. Answers whether
   * there was such a video.
   */
  async deleteVideo(tx: Tx, id: string): Promise<boolean> {
    const video = await repo.lockVideo(tx, id);
    if (!video) return false;
    await repo.deleteVideo(tx, id);
    const keys = [...videoFolders(id), ...(video.thumbnail_key ? [video.thumbnail_key] : [])];
    await enqueue(tx, removeMediaJobType, { video_id: id, keys });
    await emit(
      tx,
      videoDeleted.create({ aggregateId: id, payload: { video_id: id, owner_id: video.owner_id } }),
    );
    // Open event streams check their viewer again, and find nothing.
    await publish(tx, videoAccessTopic(id), { deleted: true });
    return true;
  }

  /**
   * Deletes every video of one owner whatever its state (their channel or account goes): in the
   * caller's transaction, or in one of its own. Answers how many there were.
   */
  async deleteAllOf(ownerId: string, tx?: Tx): Promise<number> {
    if (!tx) return this.db.transaction().execute((own) => this.deleteAllOf(ownerId, own));
    let deleted = 0;
    for (;;) {
      const ids = await repo.videoIdsOf(tx, ownerId, 200);
      if (ids.length === 0) return deleted;
      for (const id of ids) if (await this.deleteVideo(tx, id)) deleted++;
    }
  }

  /**
   * A locked video the caller manages: VIDEO_NOT_FOUND when they may not see it (nothing disclosed),
   * PERMISSION_DENIED when they see it but are neither its owner nor an admin.
   */
  private async managed(tx: Tx, id: string, principal: Principal): Promise<VideoAccessRow> {
    const video = await repo.lockVideoWithOwner(tx, id);
    if (!video || !canSee(video, principal)) throw new DomainError('VIDEO_NOT_FOUND');
    if (!canManage(video, principal)) throw new DomainError('PERMISSION_DENIED');
    return video;
  }

  /** Owner or admin re-runs processing: `video.reprocess_requested`, in the same transaction. */
  async reprocess(id: string, principal: Principal): Promise<VideoRow> {
    return this.db.transaction().execute(async (tx) => {
      const video = await repo.lockVideo(tx, id);
      if (!video || !canManage(video, principal)) throw new DomainError('VIDEO_NOT_FOUND');
      if (!video.source_key) throw new DomainError('VIDEO_NOT_UPLOADED');
      if (['uploaded', 'processing', 'playable'].includes(video.status)) throw new DomainError('VIDEO_BUSY');
      const updated = await this.save(tx, video, {
        status: 'uploaded',
        processing_percent: 0,
        processing_stage: null,
        failure_code: null,
        failure_message: null,
      });
      await emit(tx, videoReprocessRequested.create({ aggregateId: id, payload: { video_id: id } }));
      await this.announce(tx, updated!);
      return updated!;
    });
  }

  /**
   * The owner or an admin edits a video's metadata, visibility or access tier (404 to whoever may not
   * see it, 403 PERMISSION_DENIED to whoever sees it but does not manage it). Announces
   * `video.updated` (with the fields changed) and `video.visibility_changed`, each once and only when
   * something changed.
   */
  async edit(id: string, principal: Principal, edit: VideoEdit): Promise<VideoRow> {
    return this.db.transaction().execute(async (tx) => {
      const video = await this.managed(tx, id, principal);
      if (edit.thumbnail_time_s !== undefined && edit.thumbnail_time_s !== null) {
        const duration = video.media_info?.durationS;
        if (duration === undefined || edit.thumbnail_time_s > duration) {
          throw new DomainError('VALIDATION_FAILED', 'The frame must be within the video', {
            fields: [
              {
                field: 'thumbnail_time_s',
                message:
                  duration === undefined
                    ? 'the duration is not known until processing has read the video'
                    : `at most ${duration} s`,
              },
            ],
          });
        }
      }
      const changed = (Object.keys(edit) as Array<keyof VideoEdit>).filter(
        (k) => edit[k] !== undefined && !sameValue(video[k], edit[k]),
      );
      if (changed.length === 0) return video;
      const patch = Object.fromEntries(changed.map((k) => [k, edit[k]])) as VideoPatch;
      const updated = await this.save(tx, video, patch);
      const ref = { video_id: id, owner_id: video.owner_id };
      const fields = changed.filter((k) => k !== 'visibility' && k !== 'access_tier');
      if (fields.length > 0) {
        await emit(tx, videoUpdated.create({ aggregateId: id, payload: { ...ref, fields } }));
      }
      if (fields.length < changed.length) {
        await emit(
          tx,
          videoVisibilityChanged.create({
            aggregateId: id,
            payload: { ...ref, visibility: updated.visibility, access_tier: updated.access_tier },
          }),
        );
      }
      return updated;
    });
  }

  /**
   * A scheduled video whose time has come publishes once it can be watched (in the caller's
   * transaction, on a locked row): `video.published` goes out with it.
   */
  async publishIfDue(tx: Tx, video: VideoRow): Promise<VideoRow> {
    if (!duePublication(video, new Date())) return video;
    return this.publishNow(tx, video);
  }

  /**
   * The owner (or an admin) publishes, schedules or takes down a video: `published: true` publishes it
   * now (it must be watchable) or at `publishAt` when that is in the future; `false` unpublishes it, or
   * cancels its schedule. Asking for the state it is in changes nothing and announces nothing.
   * INVALID_STATE for what the publication machine refuses: unpublishing a draft, publishing a rejected
   * or failed video (a moderator's rejection is undone by a moderator only).
   */
  async setPublication(
    id: string,
    principal: Principal,
    input: { published: boolean; publishAt?: Date },
  ): Promise<VideoRow> {
    return this.db.transaction().execute(async (tx) => {
      const video = await this.managed(tx, id, principal);
      if (video.publication === 'rejected') {
        throw new DomainError(
          'INVALID_STATE',
          'A moderator rejected this video; only a moderator reinstates it',
        );
      }
      if (!input.published) {
        if (video.publication === 'scheduled') {
          // Never published: back to a draft; published before: it stays taken down.
          return this.save(tx, video, {
            publication: video.published_at ? 'unpublished' : 'draft',
            publish_at: null,
          });
        }
        if (video.publication !== 'published') {
          transition(PUBLICATION, video.publication, 'unpublished');
          return video;
        }
        return this.takeDown(tx, video, 'unpublished', null);
      }
      if (video.status === 'failed' && !isWatchable(video)) {
        throw new DomainError('INVALID_STATE', 'Processing failed: process the video again first');
      }
      if (input.publishAt && input.publishAt > new Date()) {
        return this.save(tx, video, {
          publication: transition(PUBLICATION, video.publication, 'scheduled'),
          publish_at: input.publishAt,
        });
      }
      if (video.publication === 'published') return video;
      if (!isWatchable(video)) {
        throw new DomainError('INVALID_STATE', 'The video can be published once it can be watched', {
          fields: [{ field: 'published', message: 'nothing playable yet; give publish_at to schedule it' }],
        });
      }
      return this.publishNow(tx, video);
    });
  }

  /**
   * A moderator's decision (in the caller's transaction, where the admin module records it in the audit
   * log): `hidden` hides the video from everyone but its owner and admins, or restores it; `reject`
   * takes it down for good (`rejected`), `reinstate` gives a rejected video back to its owner,
   * unpublished. The reason is kept for the owner to read. Announces `video.moderated` (hiding,
   * restoring, reinstating) and `video.unpublished` with `rejected`, once per change. INVALID_STATE for
   * reinstating a video that is not rejected.
   */
  async moderate(
    tx: Tx,
    id: string,
    decision: { hidden?: boolean; reject?: boolean; reinstate?: boolean; reason: string | null },
  ): Promise<VideoRow> {
    let video = await repo.lockVideo(tx, id);
    if (!video) throw new DomainError('VIDEO_NOT_FOUND');
    const { reason } = decision;
    const moderated = async (v: VideoRow) =>
      emit(
        tx,
        videoModerated.create({
          aggregateId: id,
          payload: { video_id: id, owner_id: v.owner_id, hidden: v.hidden, reason },
        }),
      );
    if (decision.hidden !== undefined && decision.hidden !== video.hidden) {
      video = await this.save(tx, video, {
        hidden: decision.hidden,
        // A restored video keeps the reason only if it stays rejected.
        moderation_reason: decision.hidden || video.publication === 'rejected' ? reason : null,
      });
      await moderated(video);
    }
    if (decision.reject && video.publication !== 'rejected') {
      transition(PUBLICATION, video.publication, 'rejected');
      video = await this.takeDown(tx, video, 'rejected', reason);
    }
    if (decision.reinstate) {
      if (video.publication !== 'rejected') {
        throw new DomainError('INVALID_STATE', 'Only a rejected video is reinstated');
      }
      video = await this.save(tx, video, {
        publication: 'unpublished',
        moderation_reason: video.hidden ? video.moderation_reason : null,
      });
      await moderated(video);
    }
    return video;
  }

  /** Publishes a locked video now: `video.published` goes out with it. */
  private async publishNow(tx: Tx, video: VideoRow): Promise<VideoRow> {
    const publishedAt = new Date();
    const updated = await this.save(tx, video, {
      publication: transition(PUBLICATION, video.publication, 'published'),
      published_at: publishedAt,
    });
    await emit(
      tx,
      videoPublished.create({
        aggregateId: video.id,
        payload: {
          video_id: video.id,
          owner_id: video.owner_id,
          title: video.title,
          published_at: publishedAt.toISOString(),
        },
      }),
    );
    return updated;
  }

  /** Takes a locked video down, by its owner or a moderator: `video.unpublished` goes out with it. */
  private async takeDown(
    tx: Tx,
    video: VideoRow,
    publication: 'unpublished' | 'rejected',
    reason: string | null,
  ): Promise<VideoRow> {
    const updated = await this.save(tx, video, {
      publication,
      publish_at: null,
      ...(publication === 'rejected' ? { moderation_reason: reason } : {}),
    });
    await emit(
      tx,
      videoUnpublished.create({
        aggregateId: video.id,
        payload: { video_id: video.id, owner_id: video.owner_id, publication, reason },
      }),
    );
    return updated;
  }

  /** Publishes every scheduled video whose time has come (the scheduler job); answers how many. */
  async publishDue(): Promise<number> {
    let published = 0;
    for (;;) {
      const ids = await repo.duePublicationIds(this.db, 100);
      let moved = 0;
      for (const id of ids) {
        await this.db.transaction().execute(async (tx) => {
          const video = await repo.lockVideo(tx, id);
          if (video && (await this.publishIfDue(tx, video)) !== video) moved++;
        });
      }
      published += moved;
      // A batch in which nothing moved (another node took them) ends the run.
      if (ids.length < 100 || moved === 0) return published;
    }
  }

  isFinal(status: VideoStatus): boolean {
    return FINAL.includes(status);
  }

  /**
   * Writes a change of a locked video. When it leaves fewer people able to watch, the access epoch
   * moves (in the same row, so no request can see the new audience with the old epoch) and open
   * streams are told after the commit.
   */
  private async save(tx: DbOrTx, video: VideoRow, patch: VideoPatch): Promise<VideoRow> {
    // Every change of either machine goes through its table.
    if (patch.status) transition(PROCESSING, video.status, patch.status);
    if (patch.publication) transition(PUBLICATION, video.publication, patch.publication);
    const narrowed = narrowsAudience(video, { ...video, ...patch });
    const updated = await repo.updateVideo(
      tx,
      video.id,
      narrowed ? { ...patch, access_epoch: video.access_epoch + 1 } : patch,
    );
    if (narrowed) await publish(tx, videoAccessTopic(video.id), { epoch: updated!.access_epoch });
    return updated!;
  }

  private async announce(tx: DbOrTx, v: VideoRow): Promise<void> {
    await publish(tx, videoTopic(v.id), toProgressEvent(v));
  }
}

export function toProgressEvent(v: VideoRow): ProgressEvent {
  return {
    status: v.status,
    stage: v.processing_stage,
    percent: v.processing_percent,
    failure_code: v.failure_code,
    failure_message: v.failure_message,
  };
}

/** Equal column values: scalars, or arrays of them (tags). */
function sameValue(a: unknown, b: unknown): boolean {
  // thumbnail_time_s is stored as a 4-byte float.
  if (typeof a === 'number' && typeof b === 'number') return Math.fround(a) === Math.fround(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}
