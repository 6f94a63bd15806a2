// Events the social module emits, each in the transaction of the change it announces.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

const pair = { follower_id: z.uuid(), followee_id: z.uuid() };

/** `follower_id` now follows `followee_id`. Aggregate: the pair (`<follower>:<followee>`), so a follow
 * and its undoing arrive in order. */
export const userFollowed = defineEvent({
  type: 'user.followed',
  aggregate: 'follow',
  payload: z.object(pair),
});

export const userUnfollowed = defineEvent({
  type: 'user.unfollowed',
  aggregate: 'follow',
  payload: z.object(pair),
});

export const followAggregateId = (followerId: string, followeeId: string) => `${followerId}:${followeeId}`;
