// The kinds of notification, and what each user receives of them when they have said nothing: every
// kind in the list and the live stream; as Web Push, only those worth a sound with the tab closed.
export const NOTIFICATION_TYPES = [
  'follow',
  'subscribe',
  'like',
  'comment',
  'reply',
  'mention',
  'new_video',
  'system',
] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The channels a notification may take: `in_app` (the list and the live stream), `push` (Web Push). */
export interface Delivery {
  in_app: boolean;
  push: boolean;
}

export const PUSHED_BY_DEFAULT: readonly NotificationType[] = ['new_video', 'mention', 'reply', 'system'];

export function defaultDelivery(type: NotificationType): Delivery {
  return { in_app: true, push: PUSHED_BY_DEFAULT.includes(type) };
}
