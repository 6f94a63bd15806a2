// Events the likes module emits, each in the transaction of the like or unlike.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

const like = {
  user_id: z.uuid(),
  target_type: z.enum(['video', 'comment']),
  target_id: z.uuid(),
  /** The video liked, or the video of the comment liked. */
  video_id: z.uuid(),
  /** Who receives the like: the video's owner or the comment's author. */
  target_owner_id: z.uuid(),
};

/** Aggregate: `<user>:<target_type>:<target_id>`, so a like and its undoing arrive in order. */
export const likeCreated = defineEvent({ type: 'like.created', aggregate: 'like', payload: z.object(like) });
export const likeDeleted = defineEvent({ type: 'like.deleted', aggregate: 'like', payload: z.object(like) });

export const likeAggregateId = (userId: string, targetType: string, targetId: string) =>
  `${userId}:${targetType}:${targetId}`;
