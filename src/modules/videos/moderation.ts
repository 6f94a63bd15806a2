// Moderators' decisions about a video: hide it (or restore it), reject it (or reinstate it), always with
// the reason shown to its owner. Run in the caller's transaction, which records the decision in the
// audit log. A hidden or rejected video is then seen by its owner and administrators only (access.ts).
import type { Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import { publish } from '../../platform/realtime/notify-hub.ts';
import { narrowsAudience } from './access.ts';
import { videoModerated, videoUnpublished } from './events.ts';
import { PUBLICATION, transition } from './lifecycle.ts';
import type { VideoPatch, VideoRow } from './repo.ts';
import * as repo from './repo.ts';
import { videoAccessTopic } from './service.ts';

/** One decision at a time: `hidden` true or false, `reject`, or `reinstate` (back to unpublished). */
export interface Moderation {
  hidden?: boolean;
  reject?: boolean;
  reinstate?: boolean;
  reason?: string | null;
}

/** A video before and after a moderator's decision. */
export interface ModeratedVideo {
  before: VideoRow;
  after: VideoRow;
}

/**
 * Applies a decision to a video (locked until the caller's transaction ends). VIDEO_NOT_FOUND for an
 * unknown id; INVALID_STATE to reinstate a video that is not rejected. A decision that changes who may
 * watch moves the access epoch, as every change that narrows the audience does, and is announced
 * through the outbox (`video.moderated`, or `video.unpublished` with publication `rejected`).
 */
export async function moderate(tx: Tx, id: string, decision: Moderation): Promise<ModeratedVideo> {
  const before = await repo.lockVideo(tx, id);
  if (!before) throw new DomainError('VIDEO_NOT_FOUND');
  const reason = decision.reason ?? null;
  const patch = patchFor(before, decision, reason);
  const narrowed = narrowsAudience(before, { ...before, ...patch });
  const after = (await repo.updateVideo(
    tx,
    id,
    narrowed ? { ...patch, access_epoch: before.access_epoch + 1 } : patch,
  ))!;
  if (narrowed) await publish(tx, videoAccessTopic(id), { epoch: after.access_epoch });

  const ref = { video_id: id, owner_id: before.owner_id };
  if (after.hidden !== before.hidden) {
    await emit(
      tx,
      videoModerated.create({ aggregateId: id, payload: { ...ref, hidden: after.hidden, reason } }),
    );
  }
  if (after.publication === 'rejected' && before.publication !== 'rejected') {
    await emit(
      tx,
      videoUnpublished.create({ aggregateId: id, payload: { ...ref, publication: 'rejected', reason } }),
    );
  }
  return { before, after };
}

function patchFor(video: VideoRow, decision: Moderation, reason: string | null): VideoPatch {
  if (decision.reject) {
    return { publication: transition(PUBLICATION, video.publication, 'rejected'), moderation_reason: reason };
  }
  if (decision.reinstate) {
    if (video.publication !== 'rejected') {
      throw new DomainError('INVALID_STATE', `A ${video.publication} video is not rejected`);
    }
    // Its owner publishes it again when they choose. A reason that still holds (hidden) stays.
    return {
      publication: transition(PUBLICATION, video.publication, 'unpublished'),
      moderation_reason: video.hidden ? video.moderation_reason : null,
    };
  }
  if (decision.hidden !== undefined) {
    const stillRejected = video.publication === 'rejected';
    return {
      hidden: decision.hidden,
      moderation_reason: decision.hidden ? reason : stillRejected ? video.moderation_reason : null,
    };
  }
  return {};
}
