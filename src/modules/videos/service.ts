// The catalog's rules for a video's life: uploading → uploaded → processing → (playable →) ready | failed.
// The service answers the reads and access decisions, registers uploads, and takes owners' edits; its
// parts hold the rest: `runs` (the only way the media pipeline moves a video), `publishing` and
// `deletion`.

import { uuidv7 } from 'uuidv7';
import type { Db, DbOrTx, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import type { Metrics } from '../../platform/observability/metrics.ts';
import { publish } from '../../platform/realtime/notify-hub.ts';
import { canManage, canSee, tierDecision } from './access.ts';
import { VideoDeletion } from './deletion.ts';
import type { ViewerState } from './dto.ts';
import { videoReprocessRequested, videoUpdated, videoVisibilityChanged } from './events.ts';
import { drawThumbnailJobType } from './jobs.ts';
import type { PlaybackTokens } from './playback-tokens.ts';
import { ProcessingRuns } from './processing-runs.ts';
import { VideoPublishing } from './publishing.ts';
import type { OwnerStatus, VideoAccessRow, VideoDetailRow, VideoPatch, VideoRow } from './repo.ts';
import * as repo from './repo.ts';
import type { VideoEdit } from './schema.ts';
import { ownerAccessTopic } from './topics.ts';
import { announce, managed, save } from './video-writes.ts';

export class VideosService {
  /** A processing run's moves of a video (the media pipeline's only way to change one). */
  readonly runs: ProcessingRuns;
  /** Publishing, scheduling, taking down and moderating. */
  readonly publishing: VideoPublishing;
  readonly deletion: VideoDeletion;

  constructor(
    private readonly db: Db,
    /** Signs the media URLs of videos that are not public; the playback routes check them. */
    readonly tokens: PlaybackTokens,
    metrics: Pick<Metrics, 'registry'>,
  ) {
    this.publishing = new VideoPublishing(db);
    this.runs = new ProcessingRuns(db, this.publishing, metrics);
    this.deletion = new VideoDeletion(db);
  }

  private viewerStates?: (userId: string, videoId: string) => Promise<ViewerState | null>;

  /**
   * The viewing module (built later) tells a video's answer what its signed-in viewer did with it
   * (liked, bookmarked, progress); without it, the answer shows a blank state.
   */
  provideViewerStates(source: (userId: string, videoId: string) => Promise<ViewerState | null>): void {
    this.viewerStates = source;
  }

  /** The caller's state for the video's answer; null for an anonymous caller. */
  async viewerStateOf(principal: Principal | null, videoId: string): Promise<ViewerState | null> {
    if (!principal || !this.viewerStates) return null;
    return this.viewerStates(principal.userId, videoId);
  }

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
    const updated = await save(tx, video, {
      status: 'uploaded',
      source_key: source.key,
      source_size: source.size,
    });
    await announce(tx, updated!);
    return updated!;
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
    if (status === 'deleted') await this.deletion.deleteAllOf(ownerId, tx);
    if ((await repo.bumpOwnerAccessEpochs(tx, ownerId)) > 0) {
      await publish(tx, ownerAccessTopic(ownerId), { status });
    }
  }

  /** Owner or admin re-runs processing: `video.reprocess_requested`, in the same transaction. */
  async reprocess(id: string, principal: Principal): Promise<VideoRow> {
    return this.db.transaction().execute(async (tx) => {
      const video = await repo.lockVideo(tx, id);
      if (!video || !canManage(video, principal)) throw new DomainError('VIDEO_NOT_FOUND');
      if (!video.source_key) throw new DomainError('VIDEO_NOT_UPLOADED');
      if (['uploaded', 'processing', 'playable'].includes(video.status)) throw new DomainError('VIDEO_BUSY');
      const updated = await save(tx, video, {
        status: 'uploaded',
        processing_percent: 0,
        processing_stage: null,
        failure_code: null,
        failure_message: null,
      });
      await emit(tx, videoReprocessRequested.create({ aggregateId: id, payload: { video_id: id } }));
      await announce(tx, updated!);
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
      const video = await managed(tx, id, principal);
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
      const updated = await save(tx, video, patch);
      if (patch.thumbnail_time_s !== undefined && patch.thumbnail_time_s !== null) {
        // Drawn by a job: the frame is read from the source, which takes longer than a request should.
        await enqueue(tx, drawThumbnailJobType, { video_id: id, time_s: patch.thumbnail_time_s });
      }
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
}

/** Equal column values: scalars, or arrays of them (tags). */
function sameValue(a: unknown, b: unknown): boolean {
  // thumbnail_time_s is stored as a 4-byte float.
  if (typeof a === 'number' && typeof b === 'number') return Math.fround(a) === Math.fround(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}
