// What a Web Push says: a small JSON document the site's service worker shows as a system notification
// (title, body, where a click leads). Push services take about 4 KB, so long titles are cut.
import type { Shown } from './dto.ts';
import type { NotificationType } from './kinds.ts';
import type { NotificationRow } from './repo.ts';

export interface PushMessage {
  id: number;
  type: NotificationType;
  title: string;
  body: string;
  /** Where a click leads, within the site. */
  url: string;
  created_at: string;
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function pushMessage(n: Pick<NotificationRow, 'id' | 'type' | 'data' | 'created_at'>): PushMessage {
  const d = n.data as Shown;
  const who = cut(d.actor?.display_name || d.actor?.username || 'Someone', 80);
  const title = cut(d.video?.title ?? '', 120);
  const videoUrl = d.video ? `/videos/${d.video.id}` : '/notifications';
  const excerpt = d.excerpt ? `: ${cut(d.excerpt, 140)}` : '';
  const [heading, body, url] = ((): [string, string, string] => {
    switch (n.type) {
      case 'follow':
        return ['New follower', `${who} started following you`, `/users/${d.actor?.id ?? ''}`];
      case 'subscribe':
        return ['New subscriber', `${who} subscribed to ${cut(d.channel?.name ?? 'your channel', 80)}`, '/'];
      case 'like':
        return [
          'New like',
          d.target_type === 'comment'
            ? `${who} liked your comment on "${title}"`
            : `${who} liked your video "${title}"`,
          videoUrl,
        ];
      case 'comment':
        return ['New comment', `${who} commented on "${title}"${excerpt}`, videoUrl];
      case 'reply':
        return ['New reply', `${who} replied to your comment on "${title}"${excerpt}`, videoUrl];
      case 'mention':
        return ['You were mentioned', `${who} mentioned you on "${title}"${excerpt}`, videoUrl];
      case 'new_video':
        return [cut(d.channel?.name ?? who, 80), `New video: ${title}`, videoUrl];
      case 'system':
        return ['Vireo', cut(d.message ?? '', 1000), '/notifications'];
    }
  })();
  return { id: n.id, type: n.type, title: heading, body, url, created_at: n.created_at.toISOString() };
}
