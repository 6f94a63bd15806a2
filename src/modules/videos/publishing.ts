// Publishing: the owner publishes, schedules or takes down a video, the scheduler publishes those whose
// time has come, a moderator hides, rejects or reinstates one.
import type { Db, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { videoModerated, videoPublished, videoUnpublished } from './events.ts';
import { duePublication, isWatchable, PUBLICATION, transition } from './lifecycle.ts';
import type { VideoRow } from './repo.ts';
import * as repo from './repo.ts';
import { managed, save } from './video-writes.ts';

export class VideoPublishing {
  constructor(private readonly db: Db) {}

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
      const video = await managed(tx, id, principal);
      if (video.publication === 'rejected') {
        throw new DomainError(
          'INVALID_STATE',
          'A moderator rejected this video; only a moderator reinstates it',
        );
      }
      if (!input.published) {
        if (video.publication === 'scheduled') {
          // Never published: back to a draft; published before: it stays taken down.
          return save(tx, video, {
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
        return save(tx, video, {
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
      video = await save(tx, video, {
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
      video = await save(tx, video, {
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
    const updated = await save(tx, video, {
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
    const updated = await save(tx, video, {
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
}
