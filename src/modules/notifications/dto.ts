// A stored notification as clients see it: the names and titles it was made with (its `data`), the
// actor only while their account exists.
import type { z } from 'zod';
import type { NotificationRow } from './repo.ts';
import type { notificationDto } from './schema.ts';

/** What `notifications.data` holds: names and titles as they were when the notification was made. */
export interface Shown {
  actor?: { id: string; username: string; display_name: string };
  video?: { id: string; title: string };
  channel?: { id: string; handle: string; name: string };
  excerpt?: string;
  message?: string;
  /** For likes: what was liked. */
  target_type?: 'video' | 'comment';
}

export function toNotificationDto(n: NotificationRow): z.infer<typeof notificationDto> {
  const d = n.data as Shown;
  return {
    id: n.id,
    type: n.type,
    actor: n.actor_id && d.actor ? d.actor : null,
    video: n.video_id && d.video ? d.video : null,
    channel: d.channel ?? null,
    comment_id: n.comment_id,
    excerpt: d.excerpt ?? null,
    message: d.message ?? null,
    read: n.read_at !== null,
    read_at: n.read_at ? new Date(n.read_at).toISOString() : null,
    created_at: new Date(n.created_at).toISOString(),
  };
}
