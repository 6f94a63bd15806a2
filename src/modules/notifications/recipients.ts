// Who hears of what: each event the notifications module listens to, turned into the notifications it
// makes (pure, so each rule is plain to read and test). Nobody is notified of their own act. The source
// says what a notification is about; one user gets one notification per source, so a retried event, a
// like undone and made again, or a reply that also mentions its parent's author never notifies twice.
import type { z } from 'zod';
import type { channelMembershipChanged } from '../channels/index.ts';
import type { commentCreated, commentEdited } from '../comments/index.ts';
import type { likeCreated } from '../likes/index.ts';
import type { userFollowed } from '../social/index.ts';
import type { NotificationType } from './kinds.ts';

type PayloadOf<E extends { payload: z.ZodType }> = z.infer<E['payload']>;

/** One notification to store, before the recipient's settings say whether they want it. */
export interface PlannedNotification {
  user_id: string;
  type: NotificationType;
  actor_id: string | null;
  video_id: string | null;
  comment_id: string | null;
  channel_id: string | null;
  source_id: string;
  /** What the list shows beyond the actor, video, channel and comment (read when it is stored). */
  data: Record<string, unknown>;
}

const none = { video_id: null, comment_id: null, channel_id: null, data: {} };

export function onFollowed(p: PayloadOf<typeof userFollowed>): PlannedNotification[] {
  if (p.follower_id === p.followee_id) return [];
  return [
    {
      ...none,
      user_id: p.followee_id,
      type: 'follow',
      actor_id: p.follower_id,
      source_id: `follow:${p.follower_id}`,
    },
  ];
}

/** A new free subscriber (no membership before, tier 1 now) tells the channel's owner. */
export function onMembershipChanged(p: PayloadOf<typeof channelMembershipChanged>): PlannedNotification[] {
  if (p.tier_before !== null || p.tier !== 1 || p.user_id === p.owner_id) return [];
  return [
    {
      ...none,
      user_id: p.owner_id,
      type: 'subscribe',
      actor_id: p.user_id,
      channel_id: p.channel_id,
      source_id: `subscribe:${p.channel_id}:${p.user_id}`,
    },
  ];
}

export function onLiked(p: PayloadOf<typeof likeCreated>): PlannedNotification[] {
  if (p.target_owner_id === p.user_id) return [];
  return [
    {
      ...none,
      user_id: p.target_owner_id,
      type: 'like',
      actor_id: p.user_id,
      video_id: p.video_id,
      comment_id: p.target_type === 'comment' ? p.target_id : null,
      source_id: `like:${p.user_id}:${p.target_type}:${p.target_id}`,
      data: { target_type: p.target_type },
    },
  ];
}

/**
 * A comment tells the parent's author (`reply`), each user it names (`mention`) and the video's owner
 * (`comment`); someone who is several of these gets one notification, the most particular: reply, then
 * mention, then comment.
 */
export function onCommented(p: PayloadOf<typeof commentCreated>): PlannedNotification[] {
  const chosen = new Map<string, NotificationType>();
  const offer = (userId: string | null, type: NotificationType) => {
    if (userId && userId !== p.author_id && !chosen.has(userId)) chosen.set(userId, type);
  };
  offer(p.parent_author_id, 'reply');
  for (const id of p.mentioned_user_ids) offer(id, 'mention');
  offer(p.video_owner_id, 'comment');
  return [...chosen].map(([userId, type]) => commentNotification(p, userId, type));
}

/** Users named for the first time in an edit hear of it, unless this comment already notified them. */
export function onCommentEdited(p: PayloadOf<typeof commentEdited>): PlannedNotification[] {
  const ids = new Set(p.mentioned_user_ids);
  ids.delete(p.author_id);
  return [...ids].map((userId) => commentNotification(p, userId, 'mention'));
}

function commentNotification(
  p: { comment_id: string; video_id: string; author_id: string },
  userId: string,
  type: NotificationType,
): PlannedNotification {
  return {
    ...none,
    user_id: userId,
    type,
    actor_id: p.author_id,
    video_id: p.video_id,
    comment_id: p.comment_id,
    source_id: `comment:${p.comment_id}`,
  };
}
