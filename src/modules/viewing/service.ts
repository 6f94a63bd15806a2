// Each viewer's state per video: liked and bookmarked (a projection of like and collection events) and
// where they stopped watching (reported by their player). Feeds read what a viewer watched and likes.
import pg from 'pg';
import type { Db, DbOrTx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import type { DeliveredEvent } from '../../platform/events/event.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { VideosService, ViewerState } from '../videos/index.ts';
import { progressOf } from './completion.ts';
import type { WatchedRow } from './repo.ts';
import * as repo from './repo.ts';

/** What the projection hears of a like (like.created / like.deleted). */
export interface LikePayload {
  user_id: string;
  target_type: 'video' | 'comment';
  target_id: string;
}

/** What the projection hears of a bookmark (collection.item_added / item_removed). */
export interface BookmarkPayload {
  owner_id: string;
  video_id: string;
  bookmarked: boolean;
}

/**
 * The projection's handlers, idempotent: each sets an absolute value, and an event older than the last
 * one applied to that flag changes nothing.
 */
export const viewerStateProjection = {
  async like(tx: DbOrTx, event: DeliveredEvent<LikePayload>, liked: boolean): Promise<void> {
    const { user_id, target_type, target_id } = event.payload;
    if (target_type !== 'video') return;
    await repo.applyFlag(tx, 'liked', user_id, target_id, liked, event.occurredAt);
  },
  async bookmark(tx: DbOrTx, event: DeliveredEvent<BookmarkPayload>): Promise<void> {
    const { owner_id, video_id, bookmarked } = event.payload;
    await repo.applyFlag(tx, 'bookmarked', owner_id, video_id, bookmarked, event.occurredAt);
  },
};

export class ViewingService {
  readonly projection = viewerStateProjection;

  constructor(
    private readonly db: Db,
    private readonly videos: VideosService,
  ) {}

  /** The state a video's answer shows its signed-in viewer; null when they never touched it. */
  async stateOf(userId: string, videoId: string): Promise<ViewerState | null> {
    return (await repo.stateOf(this.db, userId, videoId)) ?? null;
  }

  /**
   * Where the caller stopped watching a video they may watch. The video's own length decides whether
   * they finished; the player's `duration_s` only when the video's is unknown.
   */
  async reportProgress(
    principal: Principal,
    videoId: string,
    body: { position_s: number; duration_s?: number },
  ): Promise<ViewerState> {
    const video = await this.videos.watchable(videoId, principal);
    const duration = video.media_info?.durationS ?? body.duration_s ?? null;
    const progress = progressOf(body.position_s, duration);
    try {
      return await repo.saveProgress(this.db, principal.userId, video.id, {
        ...progress,
        duration_s: duration,
      });
    } catch (err) {
      // The video was deleted since the access check: its foreign key fails (23503); that is the 404
      // the check would have answered a moment later, not a 500.
      if (err instanceof pg.DatabaseError && err.code === '23503') throw new DomainError('VIDEO_NOT_FOUND');
      throw err;
    }
  }

  /** Started and not finished, newest first, among videos the caller may still watch. */
  continueWatching(
    principal: Principal,
    page: { limit: number; after?: [string, string] },
  ): Promise<WatchedRow[]> {
    return repo.watched(this.db, principal.userId, { unfinished: true, ...page, limit: page.limit + 1 });
  }

  /** Everything the caller reported progress on, newest first, among videos they may still watch. */
  history(principal: Principal, page: { limit: number; after?: [string, string] }): Promise<WatchedRow[]> {
    return repo.watched(this.db, principal.userId, { unfinished: false, ...page, limit: page.limit + 1 });
  }

  /**
   * For feeds: ids of the videos the user watched, newest first (to leave out of recommendations). Not
   * filtered by access: leaving out a video the user may no longer see is harmless.
   */
  watchedVideoIds(userId: string, limit: number): Promise<string[]> {
    return repo.watchedIds(this.db, userId, limit);
  }

  /** For feeds: the tags of the user's recent liked and watched videos, heaviest first. */
  interestTags(userId: string, limit: number): Promise<Array<{ tag: string; weight: number }>> {
    return repo.interestTags(this.db, userId, limit);
  }
}
