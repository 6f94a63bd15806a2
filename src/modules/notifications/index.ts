// Notifications: follow, subscribe, like, comment, reply, mention, new_video and system, made only from
// outbox events (and administrators' messages); the list, the live stream on any node, Web Push, and
// each user's settings. Only this module writes notifications, notification_settings and
// push_subscriptions.
import { z } from 'zod';
import { defineJob } from '../../platform/jobs/definition.ts';
import { defineModule, defineSubscriber } from '../../platform/modules/define-module.ts';
import { channelMembershipChanged } from '../channels/index.ts';
import { commentCreated, commentEdited } from '../comments/index.ts';
import { likeCreated } from '../likes/index.ts';
import { userFollowed } from '../social/index.ts';
import { videoPublished } from '../videos/index.ts';
import { toNotificationDto } from './dto.ts';
import { fanOutJob, pushJob } from './jobs.ts';
import { LiveNotifications } from './live.ts';
import { notificationsRoutes } from './routes.ts';
import { NotificationsService } from './service.ts';
import { vapidKeys, WebPushSender } from './web-push.ts';

export { NOTIFICATION_TYPES, type NotificationType } from './kinds.ts';
export { NotificationsService } from './service.ts';

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    notifications: NotificationsService;
  }
}

const PUSH_TIMEOUT_MS = 10_000;

export const notificationsModule = defineModule({
  name: 'notifications',
  setup(ctx) {
    const settings = ctx.config.notifications;
    const accounts = ctx.use('accounts');
    const service = new NotificationsService({
      db: ctx.db,
      videos: ctx.use('videos'),
      accounts,
      audit: ctx.use('audit'),
      logger: ctx.logger,
      fanOutBatch: settings.fanOutBatch,
    });
    const live = new LiveNotifications(ctx.db, ctx.hub, toNotificationDto, ctx.logger);
    // Events before this subscriber first started are not notified: old news is no news.
    const from = { from: 'latest' } as const;
    return {
      service,
      routes: (http) =>
        notificationsRoutes(http, {
          notifications: service,
          live,
          accounts,
          heartbeatMs: settings.heartbeatMs,
        }),
      start: async () => {
        const keys = await vapidKeys(ctx.db, settings.webPush.vapid);
        service.usePush(
          new WebPushSender({
            keys,
            subject: settings.webPush.subject,
            allowPrivateNetworks: settings.webPush.allowPrivateNetworks,
            timeoutMs: PUSH_TIMEOUT_MS,
          }),
        );
      },
      jobs: [
        defineJob({ ...fanOutJob, handler: (payload) => service.fanOut(payload) }),
        defineJob({ ...pushJob, handler: (payload) => service.pushOut(payload) }),
        defineJob({
          name: 'notifications.clean_read',
          payload: z.object({}),
          // Weekly, Sunday night.
          cron: '23 3 * * 0',
          handler: async () => {
            const deleted = await service.cleanRead();
            ctx.logger.info({ deleted }, 'read notifications older than 30 days removed');
            return 'done';
          },
        }),
      ],
      subscribers: [
        defineSubscriber({
          event: userFollowed,
          name: 'notifications.follows',
          handler: ({ payload }, { tx }) => service.followed(tx, payload),
          options: from,
        }),
        defineSubscriber({
          event: channelMembershipChanged,
          name: 'notifications.subscriptions',
          handler: ({ payload }, { tx }) => service.membershipChanged(tx, payload),
          options: from,
        }),
        defineSubscriber({
          event: likeCreated,
          name: 'notifications.likes',
          handler: ({ payload }, { tx }) => service.liked(tx, payload),
          options: from,
        }),
        defineSubscriber({
          event: commentCreated,
          name: 'notifications.comments',
          handler: ({ payload }, { tx }) => service.commented(tx, payload),
          options: from,
        }),
        defineSubscriber({
          event: commentEdited,
          name: 'notifications.comment_mentions',
          handler: ({ payload }, { tx }) => service.commentEdited(tx, payload),
          options: from,
        }),
        defineSubscriber({
          event: videoPublished,
          name: 'notifications.new_videos',
          handler: (event, { tx }) => service.videoPublished(tx, event),
          options: from,
        }),
      ],
    };
  },
});
