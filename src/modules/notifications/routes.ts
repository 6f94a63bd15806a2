// /api/v1/notifications: the list, counts, marks, settings, the live stream and Web Push subscriptions;
// /api/v1/admin/notifications: administrators' system messages.
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { sseStreams } from '../../platform/realtime/sse.ts';
import type { AccountsService } from '../accounts/index.ts';
import { toNotificationDto } from './dto.ts';
import type { LiveNotifications } from './live.ts';
import {
  notificationIdParams,
  notificationsCursor,
  notificationsPage,
  notificationsQuery,
  pushKeyDto,
  pushSubscriptionBody,
  pushSubscriptionDto,
  pushUnsubscribeBody,
  settingsBody,
  settingsDto,
  systemMessageBody,
  systemMessageDto,
  unreadCountDto,
} from './schema.ts';
import type { NotificationsService } from './service.ts';

export interface NotificationsRouteDeps {
  notifications: NotificationsService;
  live: LiveNotifications;
  accounts: AccountsService;
  heartbeatMs: number;
}

const tags = ['notifications'];

export function notificationsRoutes(
  app: HttpServer,
  { notifications, live, accounts, heartbeatMs }: NotificationsRouteDeps,
): void {
  const streams = sseStreams(app);

  app.get('/api/v1/notifications', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'My notifications, newest first',
      querystring: notificationsQuery,
      response: { 200: notificationsPage },
    },
    handler: async (req) => {
      const { limit, cursor, unread_only } = req.query;
      const beforeId = cursor ? decodeCursor(cursor, notificationsCursor)[0] : undefined;
      const rows = await notifications.list(principalOf(req).userId, {
        unreadOnly: unread_only,
        limit,
        beforeId,
      });
      const page = toPage(rows, limit, (r) => [r.id]);
      return { items: page.items.map(toNotificationDto), next_cursor: page.next_cursor };
    },
  });

  app.get('/api/v1/notifications/unread-count', {
    config: { auth: 'user' },
    schema: { tags, summary: 'How many of my notifications are unread', response: { 200: unreadCountDto } },
    handler: async (req) => ({ count: await notifications.unreadCount(principalOf(req).userId) }),
  });

  app.put('/api/v1/notifications/:id/read', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Mark one of my notifications read',
      params: notificationIdParams,
      response: { 204: noContent, 404: problemSchema.describe('NOTIFICATION_NOT_FOUND') },
    },
    handler: async (req, reply) => {
      await notifications.markRead(principalOf(req).userId, req.params.id);
      return reply.status(204).send(null);
    },
  });

  app.put('/api/v1/notifications/read-all', {
    config: { auth: 'user' },
    schema: { tags, summary: 'Mark all my notifications read', response: { 204: noContent } },
    handler: async (req, reply) => {
      await notifications.markAllRead(principalOf(req).userId);
      return reply.status(204).send(null);
    },
  });

  app.get('/api/v1/notifications/settings', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Which types I receive, in the app and as Web Push',
      response: { 200: settingsDto },
    },
    handler: async (req) => notifications.settings(principalOf(req).userId),
  });

  app.put('/api/v1/notifications/settings', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Change the types named (the others stay); answers all of them',
      body: settingsBody,
      response: { 200: settingsDto },
    },
    handler: async (req) => notifications.updateSettings(principalOf(req).userId, req.body),
  });

  app.get('/api/v1/notifications/stream', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary:
        'My new notifications as Server-Sent Events (`notification`, id = its id; first `unread` with the ' +
        'count). Last-Event-ID resumes after that id. Ends when the account is hidden, the session ends or ' +
        'the access token expires (reconnect with a fresh one).',
      produces: ['text/event-stream'],
    },
    handler: async (req, reply) => {
      const { userId } = principalOf(req);
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const resumeFrom = Number(req.headers['last-event-id']);
      const from =
        Number.isSafeInteger(resumeFrom) && resumeFrom >= 0
          ? resumeFrom
          : await notifications.lastIdOf(userId);
      live.open(req, reply, streams, {
        userId,
        from,
        heartbeatMs,
        recheck: async () => accounts.authenticate(token),
        hello: { event: 'unread', data: async () => ({ count: await notifications.unreadCount(userId) }) },
      });
    },
  });

  // For signed-in callers: the key serves only to subscribe, which takes an account.
  app.get('/api/v1/notifications/push/key', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: "The server's VAPID public key, for pushManager.subscribe",
      response: { 200: pushKeyDto },
    },
    handler: async () => ({ public_key: notifications.push.publicKey }),
  });

  app.post('/api/v1/notifications/push/subscriptions', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: "Send my notifications to this browser's push service (PushSubscription.toJSON())",
      body: pushSubscriptionBody,
      response: {
        200: pushSubscriptionDto,
        201: pushSubscriptionDto,
        422: problemSchema.describe('PUSH_ENDPOINT_FORBIDDEN: not https, or a private or loopback address'),
      },
    },
    handler: async (req, reply) => {
      const saved = await notifications.subscribePush(principalOf(req).userId, req.body);
      return reply.status(saved.created ? 201 : 200).send({
        id: saved.id,
        endpoint: saved.endpoint,
        created_at: saved.created_at.toISOString(),
      });
    },
  });

  app.delete('/api/v1/notifications/push/subscriptions', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Stop sending my notifications to this push endpoint',
      body: pushUnsubscribeBody,
      response: { 204: noContent, 404: problemSchema.describe('PUSH_SUBSCRIPTION_NOT_FOUND') },
    },
    handler: async (req, reply) => {
      await notifications.unsubscribePush(principalOf(req).userId, req.body.endpoint);
      return reply.status(204).send(null);
    },
  });

  app.post('/api/v1/admin/notifications', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'A system notification to one account, or to every active account',
      body: systemMessageBody,
      response: { 202: systemMessageDto, 404: problemSchema.describe('USER_NOT_FOUND') },
    },
    handler: async (req, reply) =>
      reply.status(202).send(await notifications.sendSystem(principalOf(req), req.body)),
  });
}
