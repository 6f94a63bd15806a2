// Comment rules: who may read, write, edit and delete comments of a video, threads and their counts,
// @mentions, the per-user rate limit and the owner's switch. The likes module counts comment likes
// through `likableComment` and `countLike`.
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import type { Db, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { RateLimiter } from '../../platform/http/rate-limit.ts';
import type { VideosService } from '../videos/index.ts';
import { commentCreated, commentDeleted, commentEdited } from './events.ts';
import { mentionedNames } from './mentions.ts';
import type { CommentRow, CommentView, ListAfter } from './repo.ts';
import * as repo from './repo.ts';

/** What comments need of the accounts module: @usernames to the ids of active accounts. */
export interface UserDirectory {
  activeIdsByUsername(names: string[]): Promise<string[]>;
}

export interface CommentsDeps {
  db: Db;
  videos: Pick<VideosService, 'viewable' | 'watchable'>;
  users: UserDirectory;
  limiter: RateLimiter;
  /** Comments, replies and edits one account may write per minute. */
  perMinute: number;
}

type Video = Awaited<ReturnType<VideosService['viewable']>>;

export class CommentsService {
  constructor(private readonly deps: CommentsDeps) {}

  /**
   * A page of a video's comments (replies are read per comment), for whoever may watch it; none, and
   * `enabled: false`, while its owner has comments turned off.
   */
  async list(
    videoId: string,
    principal: Principal | null,
    page: { order: 'newest' | 'top'; limit: number; after: ListAfter },
  ): Promise<{ enabled: boolean; rows: CommentView[] }> {
    const video = await this.deps.videos.watchable(videoId, principal);
    if (!video.comments_enabled) return { enabled: false, rows: [] };
    const rows = await repo.listTopLevel(this.deps.db, videoId, {
      order: page.order,
      limit: page.limit + 1,
      after: page.after,
      me: principal?.userId ?? null,
    });
    return { enabled: true, rows };
  }

  /** The direct replies of a comment, oldest first; none while comments are off. */
  async replies(
    commentId: string,
    principal: Principal | null,
    page: { limit: number; after?: [string, string] },
  ): Promise<CommentView[]> {
    const { video } = await this.seen(commentId, principal, 'watch');
    if (!video.comments_enabled) return [];
    return repo.listReplies(this.deps.db, commentId, {
      limit: page.limit + 1,
      after: page.after,
      me: principal?.userId ?? null,
    });
  }

  /** One comment (a tombstone too: it heads a thread), for whoever may watch its video. */
  async get(commentId: string, principal: Principal | null): Promise<CommentView> {
    const { video } = await this.seen(commentId, principal, 'watch');
    if (!video.comments_enabled) throw new DomainError('COMMENT_NOT_FOUND');
    return this.view(commentId, principal);
  }

  /**
   * Writes a comment, or a reply to a live comment of the same video, for whoever may watch the video
   * while its comments are on; RATE_LIMITED past the per-minute limit. The parent's reply count and
   * the video's comment count change in the same transaction, which announces `comment.created`.
   */
  async create(
    videoId: string,
    principal: Principal,
    input: { body: string; parent_id?: string | null },
  ): Promise<CommentView> {
    const video = await this.deps.videos.watchable(videoId, principal);
    if (!video.comments_enabled) throw new DomainError('COMMENTS_DISABLED');
    await this.rateLimit(principal);
    const mentions = await this.mentionsIn(input.body, principal.userId);
    const id = uuidv7();
    await this.inTx(async (tx) => {
      const parentId = input.parent_id ?? null;
      let parentAuthor: string | null = null;
      if (parentId) {
        parentAuthor = (await repo.addReply(tx, parentId, videoId)) ?? null;
        if (!parentAuthor) {
          throw new DomainError('COMMENT_NOT_FOUND', 'There is no such comment on this video to answer', {
            fields: [{ field: 'parent_id', message: 'is not a comment of this video' }],
          });
        }
      }
      await repo.insertComment(tx, {
        id,
        video_id: videoId,
        author_id: principal.userId,
        parent_id: parentId,
        body: input.body,
        mentions,
      });
      await repo.addToVideoCount(tx, videoId, 1);
      await emit(
        tx,
        commentCreated.create({
          aggregateId: videoId,
          payload: {
            comment_id: id,
            video_id: videoId,
            author_id: principal.userId,
            video_owner_id: video.owner_id,
            parent_id: parentId,
            parent_author_id: parentAuthor,
            mentioned_user_ids: mentions,
          },
        }),
      );
    });
    return this.view(id, principal);
  }

  /**
   * Its author changes the text (not a deleted comment's), within the per-minute limit that writing
   * has; `comment.edited` names new mentions only.
   */
  async edit(commentId: string, principal: Principal, body: string): Promise<CommentView> {
    const { comment, video } = await this.seen(commentId, principal, 'see');
    if (comment.author_id !== principal.userId) {
      throw new DomainError('PERMISSION_DENIED', 'Only its author may edit a comment');
    }
    if (!video.comments_enabled) throw new DomainError('COMMENTS_DISABLED');
    if (body === comment.body) return this.view(commentId, principal);
    // Edits share the writing budget: each one may name people anew (`comment.edited` announces the
    // mentions the previous text lacked), so unlimited edits were unlimited mentions.
    await this.rateLimit(principal);
    const mentions = await this.mentionsIn(body, principal.userId);
    await this.inTx(async (tx) => {
      const updated = await repo.updateBody(tx, commentId, { body, mentions });
      if (!updated) throw new DomainError('COMMENT_NOT_FOUND');
      const before = new Set(comment.mentions);
      await emit(
        tx,
        commentEdited.create({
          aggregateId: updated.video_id,
          payload: {
            comment_id: commentId,
            video_id: updated.video_id,
            author_id: updated.author_id,
            mentioned_user_ids: mentions.filter((m) => !before.has(m)),
          },
        }),
      );
    });
    return this.view(commentId, principal);
  }

  /**
   * Its author, the video's owner or an admin deletes a comment. One with replies stays as a tombstone
   * so the thread reads on; one without goes, one reply fewer on its parent, and a tombstone left
   * with no reply goes with it. The video's count falls by one; `comment.deleted` says which it was.
   */
  async remove(commentId: string, principal: Principal): Promise<void> {
    const { comment, video } = await this.seen(commentId, principal, 'see');
    const allowed =
      comment.author_id === principal.userId ||
      video.owner_id === principal.userId ||
      principal.role === 'admin';
    if (!allowed) {
      throw new DomainError(
        'PERMISSION_DENIED',
        "Only its author, the video's owner or an administrator may delete a comment",
      );
    }
    await this.inTx(async (tx) => {
      const current = await repo.lockComment(tx, commentId);
      if (!current || current.deleted_at) throw new DomainError('COMMENT_NOT_FOUND');
      const tombstone = current.reply_count > 0;
      if (tombstone) await repo.tombstone(tx, commentId);
      else await this.removeRow(tx, current);
      await repo.addToVideoCount(tx, current.video_id, -1);
      await emit(
        tx,
        commentDeleted.create({
          aggregateId: current.video_id,
          payload: {
            comment_id: commentId,
            video_id: current.video_id,
            author_id: current.author_id,
            tombstone,
          },
        }),
      );
    });
  }

  /**
   * For the likes module: the comment's video and author, if the caller may like it (a live comment
   * of a video they may watch, comments on); COMMENT_NOT_FOUND otherwise.
   */
  async likableComment(
    principal: Principal,
    commentId: string,
  ): Promise<{ video_id: string; author_id: string }> {
    const { comment, video } = await this.seen(commentId, principal, 'watch');
    if (!video.comments_enabled) throw new DomainError('COMMENTS_DISABLED');
    if (comment.deleted_at) throw new DomainError('COMMENT_NOT_FOUND');
    const view = await repo.findView(this.deps.db, commentId, null);
    if (view?.author_status !== 'active') throw new DomainError('COMMENT_NOT_FOUND');
    return { video_id: comment.video_id, author_id: comment.author_id };
  }

  /**
   * For the likes module, in its transaction: adds `delta` to the comment's like count. A like (+1) of
   * a comment deleted meanwhile is refused (COMMENT_NOT_FOUND), so it rolls back; a fall (−n) of a
   * comment that is gone changes nothing.
   */
  async countLike(tx: Tx, commentId: string, delta: number): Promise<void> {
    const counted = await repo.addLikes(tx, commentId, delta);
    if (!counted && delta > 0) throw new DomainError('COMMENT_NOT_FOUND');
  }

  /** Removes a comment without replies; its parent loses a reply and, if a tombstone left bare, goes too. */
  private async removeRow(tx: Tx, comment: CommentRow): Promise<void> {
    await repo.deleteComment(tx, comment.id);
    let parentId = comment.parent_id;
    while (parentId) {
      const parent = await repo.removeReply(tx, parentId);
      if (!parent?.deleted_at || parent.reply_count > 0) return;
      // A tombstone is kept only for its replies; its deletion was announced when it became one.
      await repo.deleteComment(tx, parent.id);
      parentId = parent.parent_id;
    }
  }

  /**
   * A live comment and its video, if the caller may see the video (`see`) or watch it (`watch`);
   * COMMENT_NOT_FOUND when not, so a private video's comments disclose nothing.
   */
  private async seen(
    commentId: string,
    principal: Principal | null,
    level: 'see' | 'watch',
  ): Promise<{ comment: CommentRow; video: Video }> {
    const comment = await repo.findComment(this.deps.db, commentId);
    if (!comment) throw new DomainError('COMMENT_NOT_FOUND');
    let video: Video;
    try {
      video =
        level === 'see'
          ? await this.deps.videos.viewable(comment.video_id, principal)
          : await this.deps.videos.watchable(comment.video_id, principal);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'VIDEO_NOT_FOUND')
        throw new DomainError('COMMENT_NOT_FOUND');
      throw err;
    }
    // A tombstone may be read (it heads a thread), not edited, deleted again or liked.
    if (comment.deleted_at && level === 'see') throw new DomainError('COMMENT_NOT_FOUND');
    return { comment, video };
  }

  private async view(commentId: string, principal: Principal | null): Promise<CommentView> {
    const view = await repo.findView(this.deps.db, commentId, principal?.userId ?? null);
    if (!view) throw new DomainError('COMMENT_NOT_FOUND');
    return view;
  }

  /** One more comment, reply or edit by the caller this minute; RATE_LIMITED past the limit. */
  private async rateLimit(principal: Principal): Promise<void> {
    await this.deps.limiter.hit(`comments:${principal.userId}`, {
      limit: this.deps.perMinute,
      windowSeconds: 60,
    });
  }

  /** The active accounts a text names, its author left out. */
  private async mentionsIn(body: string, authorId: string): Promise<string[]> {
    const names = mentionedNames(body);
    if (names.length === 0) return [];
    const ids = await this.deps.users.activeIdsByUsername(names);
    return ids.filter((id) => id !== authorId);
  }

  private async inTx<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.deps.db.transaction().execute(work);
    } catch (err) {
      // The video was deleted between the access check and the write (comments reference it).
      if (err instanceof pg.DatabaseError && err.code === '23503') throw new DomainError('VIDEO_NOT_FOUND');
      throw err;
    }
  }
}
