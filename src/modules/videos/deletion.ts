// Deleting videos: one by its owner or an admin, any one on the catalog's behalf, or all of an owner's.
import type { Db, Tx } from '../../platform/db/database.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { publish } from '../../platform/realtime/notify-hub.ts';
import { videoDeleted } from './events.ts';
import { removeMediaJobType } from './jobs.ts';
import { assertDeletable } from './lifecycle.ts';
import { videoFolders } from './media-layout.ts';
import * as repo from './repo.ts';
import { videoAccessTopic } from './topics.ts';
import { managed } from './video-writes.ts';

export class VideoDeletion {
  constructor(private readonly db: Db) {}

  /**
   * The owner or an admin deletes a video they took down (or never published): VIDEO_NOT_FOUND to
   * whoever may not see it, PERMISSION_DENIED to whoever sees it but does not manage it,
   * VIDEO_NOT_UNPUBLISHED while it is published.
   */
  async remove(id: string, principal: Principal): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const video = await managed(tx, id, principal);
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
}
