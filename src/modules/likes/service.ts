// Like rules: who may like what, idempotent likes and unlikes, exact counters in the like's
// transaction, and the removal of a deleted video's or comment's likes.
import type { Db, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { CommentsService } from '../comments/index.ts';
import type { VideosService } from '../videos/index.ts';
import { likeAggregateId, likeCreated, likeDeleted } from './events.ts';
import type { LikedVideoRow, TargetType } from './repo.ts';
import * as repo from './repo.ts';

export interface LikesDeps {
  db: Db;
  videos: Pick<VideosService, 'watchable'>;
  comments: Pick<CommentsService, 'likableComment' | 'countLike'>;
}

export class LikesService {
  constructor(private readonly deps: LikesDeps) {}

  /**
   * The caller likes a video they may watch, or a comment they may see (its video watchable, comments
   * on). Liking again changes nothing; a new like counts in the same transaction that announces it.
   */
  async like(principal: Principal, type: TargetType, targetId: string): Promise<void> {
    const target = await this.likable(principal, type, targetId);
    const like = { target_type: type, target_id: targetId, user_id: principal.userId, ...target };
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await repo.insertLike(tx, like))) {
        // Liked already, or the video went after the access check.
        await this.videoStillThere(tx, target.video_id);
        return;
      }
      await this.count(tx, type, targetId, target.target_owner_id, 1);
      await emit(
        tx,
        likeCreated.create({
          aggregateId: likeAggregateId(principal.userId, type, targetId),
          payload: like,
          occurredAt: await repo.clockNow(tx),
        }),
      );
    });
  }

  /**
   * The caller takes a like back; one they never gave (or that went with its video or comment)
   * changes nothing. Only the caller's own like is touched, so no access check is needed.
   */
  async unlike(principal: Principal, type: TargetType, targetId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const key = { target_type: type, target_id: targetId, user_id: principal.userId };
      const removed = await repo.deleteLike(tx, key);
      if (!removed) return;
      await this.count(tx, type, targetId, removed.target_owner_id, -1);
      await emit(
        tx,
        likeDeleted.create({
          aggregateId: likeAggregateId(principal.userId, type, targetId),
          payload: { ...key, ...removed },
          occurredAt: await repo.clockNow(tx),
        }),
      );
    });
  }

  /** The videos the user liked, last liked first (`limit + 1` rows: toPage). */
  likedVideos(userId: string, page: { limit: number; after?: [string, string] }): Promise<LikedVideoRow[]> {
    return repo.likedVideos(this.deps.db, userId, { limit: page.limit + 1, after: page.after });
  }

  /**
   * A deleted video's likes go, with those of its comments (which went with it), and the counts of
   * whoever had received them fall. Run by the event relay in `tx`: a repeat finds nothing left.
   */
  async videoDeleted(tx: Tx, videoId: string): Promise<void> {
    const removed = await repo.deleteLikesOfVideo(tx, videoId);
    await repo.deleteVideoCount(tx, videoId);
    await this.uncountReceived(tx, removed);
  }

  /** A deleted comment's likes go (a tombstone's like count falls to 0). Run by the event relay. */
  async commentDeleted(tx: Tx, commentId: string): Promise<void> {
    const removed = await repo.deleteLikesOf(tx, 'comment', commentId);
    if (removed.length === 0) return;
    await this.deps.comments.countLike(tx, commentId, -removed.length);
    await this.uncountReceived(tx, removed);
  }

  private async likable(
    principal: Principal,
    type: TargetType,
    targetId: string,
  ): Promise<{ video_id: string; target_owner_id: string }> {
    if (type === 'video') {
      const video = await this.deps.videos.watchable(targetId, principal);
      return { video_id: video.id, target_owner_id: video.owner_id };
    }
    const comment = await this.deps.comments.likableComment(principal, targetId);
    return { video_id: comment.video_id, target_owner_id: comment.author_id };
  }

  /**
   * The target's count first, then its owner's: every like takes the two row locks in this order, so
   * concurrent likes queue instead of deadlocking.
   */
  private async count(tx: Tx, type: TargetType, targetId: string, ownerId: string, delta: 1 | -1) {
    if (type === 'video') await repo.addVideoLikes(tx, targetId, delta);
    else await this.deps.comments.countLike(tx, targetId, delta);
    await repo.addLikesReceived(tx, ownerId, delta);
  }

  private async uncountReceived(tx: Tx, removed: { target_owner_id: string }[]): Promise<void> {
    const perOwner = new Map<string, number>();
    for (const r of removed) perOwner.set(r.target_owner_id, (perOwner.get(r.target_owner_id) ?? 0) + 1);
    // In id order, so two removals touching the same owners lock them in the same order.
    for (const owner of [...perOwner.keys()].sort()) {
      await repo.addLikesReceived(tx, owner, -perOwner.get(owner)!);
    }
  }

  /** A like not recorded because the video went after the access check: it does not exist. */
  private async videoStillThere(tx: Tx, videoId: string): Promise<void> {
    if (!(await repo.videoExists(tx, videoId))) throw new DomainError('VIDEO_NOT_FOUND');
  }
}
