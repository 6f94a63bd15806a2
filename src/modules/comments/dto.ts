import type { CommentView } from './repo.ts';

/**
 * A deleted comment (a tombstone kept for its replies) shows neither text nor author; nor, while it is
 * so, does one whose author's account is hidden or deleted.
 */
export function toCommentDto(c: CommentView) {
  const removed = c.deleted_at !== null || c.author_status !== 'active';
  return {
    id: c.id,
    video_id: c.video_id,
    parent_id: c.parent_id,
    author: removed
      ? null
      : { id: c.author_id, username: c.author_username, display_name: c.author_display_name },
    body: removed ? '' : c.body,
    deleted: removed,
    reply_count: Number(c.reply_count),
    like_count: Number(c.like_count),
    liked_by_me: c.liked_by_me,
    created_at: c.created_at.toISOString(),
    edited_at: removed ? null : (c.edited_at?.toISOString() ?? null),
  };
}
