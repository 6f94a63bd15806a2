// What every change of a video goes through, whichever part of the service makes it.
import type { DbOrTx, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { publish } from '../../platform/realtime/notify-hub.ts';
import { canManage, canSee, narrowsAudience } from './access.ts';
import { PROCESSING, PUBLICATION, transition } from './lifecycle.ts';
import type { VideoAccessRow, VideoPatch, VideoRow } from './repo.ts';
import * as repo from './repo.ts';
import { toProgressEvent, videoAccessTopic, videoTopic } from './topics.ts';

/**
 * Writes a change of a locked video. When it leaves fewer people able to watch, the access epoch
 * moves (in the same row, so no request can see the new audience with the old epoch) and open
 * streams are told after the commit.
 */
export async function save(tx: DbOrTx, video: VideoRow, patch: VideoPatch): Promise<VideoRow> {
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

export async function announce(tx: DbOrTx, v: VideoRow): Promise<void> {
  await publish(tx, videoTopic(v.id), toProgressEvent(v));
}

/**
 * A locked video the caller manages: VIDEO_NOT_FOUND when they may not see it (nothing disclosed),
 * PERMISSION_DENIED when they see it but are neither its owner nor an admin.
 */
export async function managed(tx: Tx, id: string, principal: Principal): Promise<VideoAccessRow> {
  const video = await repo.lockVideoWithOwner(tx, id);
  if (!video || !canSee(video, principal)) throw new DomainError('VIDEO_NOT_FOUND');
  if (!canManage(video, principal)) throw new DomainError('PERMISSION_DENIED');
  return video;
}
