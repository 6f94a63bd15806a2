// Request and answer shapes of /api/v1/notifications and the administrators' system messages.
import { createECDH } from 'node:crypto';
import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { NOTIFICATION_TYPES } from './kinds.ts';

export const notificationType = z.enum(NOTIFICATION_TYPES);

export const notificationDto = z
  .object({
    id: z.number().int().describe('Grows with each notification: newer ones have higher ids'),
    type: notificationType,
    actor: z
      .object({ id: z.uuid(), username: z.string(), display_name: z.string() })
      .nullable()
      .describe('Who did it (null for new_video and system, or when the account is gone)'),
    video: z.object({ id: z.uuid(), title: z.string() }).nullable(),
    channel: z.object({ id: z.uuid(), handle: z.string(), name: z.string() }).nullable(),
    comment_id: z.uuid().nullable(),
    excerpt: z.string().nullable().describe("The comment's first words, for comment, reply and mention"),
    message: z.string().nullable().describe("An administrator's message (system)"),
    read: z.boolean(),
    read_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'Notification' });

export const notificationsQuery = pageQuery.extend({
  unread_only: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
});

export const notificationsPage = z
  .object({ items: z.array(notificationDto), next_cursor: z.string().nullable() })
  .meta({ id: 'NotificationsPage' });

export const notificationsCursor = z.tuple([z.number().int().positive()]);

export const notificationIdParams = z.object({
  id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

export const unreadCountDto = z.object({ count: z.number().int() }).meta({ id: 'UnreadCount' });

const delivery = z.object({
  in_app: z.boolean().describe('In the list and the live stream'),
  push: z.boolean().describe('As Web Push too (only for types received in the app)'),
});

export const settingsDto = z.record(notificationType, delivery).meta({ id: 'NotificationSettings' });

export const settingsBody = z.partialRecord(notificationType, delivery.partial());

const base64url = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
    .refine((v) => Buffer.from(v, 'base64url').length === bytes, `must hold ${bytes} bytes`);

/** Whether `key` is a point of P-256 (a key that is not would fail every encryption to it). */
function isP256Point(key: string): boolean {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    ecdh.computeSecret(Buffer.from(key, 'base64url'));
    return true;
  } catch {
    return false;
  }
}

export const pushSubscriptionBody = z.object({
  endpoint: z
    .string()
    .max(2000)
    .describe("The push service's URL for this browser (PushSubscription.endpoint)"),
  keys: z.object({
    p256dh: base64url(65)
      .refine(isP256Point, 'must be an uncompressed P-256 public key')
      .describe("The browser's P-256 public key"),
    auth: base64url(16).describe('The authentication secret'),
  }),
  expirationTime: z.number().nullable().optional().describe('Ignored: the push service says when it ends'),
});

export const pushSubscriptionDto = z
  .object({ id: z.uuid(), endpoint: z.string(), created_at: z.iso.datetime() })
  .meta({ id: 'PushSubscription' });

export const pushUnsubscribeBody = z.object({ endpoint: z.string().max(2000) });

export const pushKeyDto = z
  .object({ public_key: z.string().describe('The VAPID key: applicationServerKey of pushManager.subscribe') })
  .meta({ id: 'PushKey' });

export const systemMessageBody = z.object({
  user_id: z.uuid().optional().describe('Absent: every active account'),
  message: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
});

export const systemMessageDto = z
  .object({ id: z.uuid(), recipients: z.enum(['one', 'everyone']) })
  .meta({ id: 'SystemMessage' });
