// Events the comments module emits, each in the transaction of the change. Aggregate: the video, so a
// video's comments are announced in the order they were written.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

const ref = { comment_id: z.uuid(), video_id: z.uuid(), author_id: z.uuid() };

/** A comment or a reply (`parent_id`) was written; `mentioned_user_ids` are the @usernames it names. */
export const commentCreated = defineEvent({
  type: 'comment.created',
  aggregate: 'video',
  payload: z.object({
    ...ref,
    video_owner_id: z.uuid(),
    parent_id: z.uuid().nullable(),
    parent_author_id: z.uuid().nullable(),
    mentioned_user_ids: z.array(z.uuid()),
  }),
});

/** Its author changed the text; `mentioned_user_ids` are only those named for the first time. */
export const commentEdited = defineEvent({
  type: 'comment.edited',
  aggregate: 'video',
  payload: z.object({ ...ref, mentioned_user_ids: z.array(z.uuid()) }),
});

/** Deleted by its author, the video's owner or an admin (`tombstone`: kept as a placeholder for replies). */
export const commentDeleted = defineEvent({
  type: 'comment.deleted',
  aggregate: 'video',
  payload: z.object({ ...ref, tombstone: z.boolean() }),
});
