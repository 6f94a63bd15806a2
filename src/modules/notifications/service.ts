// Notification rules: what each event stores and for whom, fan-outs in slices, Web Push of what was
// stored, and what a user reads, marks and chooses. Every notification comes from an outbox event (or
// an administrator's message); no module calls in to make one.
import { uuidv7 } from 'uuidv7';
import type { z } from 'zod';
import type { Db, DbOrTx, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import type { DeliveredEvent } from '../../platform/events/event.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { AddressRefusedError } from '../../platform/http/outbound-address.ts';
import type { JobOutcome } from '../../platform/jobs/definition.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { publish } from '../../platform/realtime/notify-hub.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { AuditService } from '../audit/index.ts';
import type { channelMembershipChanged } from '../channels/index.ts';
import type { commentCreated, commentEdited } from '../comments/index.ts';
import type { likeCreated } from '../likes/index.ts';
import type { userFollowed } from '../social/index.ts';
import type { VideosService, videoPublished } from '../videos/index.ts';
import { fanOutJob, pushJob } from './jobs.ts';
import { type Delivery, defaultDelivery, NOTIFICATION_TYPES, type NotificationType } from './kinds.ts';
import { type LiveNotice, NOTIFICATIONS_TOPIC } from './live.ts';
import { pushMessage } from './push-message.ts';
import {
  onCommentEdited,
  onCommented,
  onFollowed,
  onLiked,
  onMembershipChanged,
  type PlannedNotification,
} from './recipients.ts';
import * as repo from './repo.ts';
import type { pushSubscriptionBody } from './schema.ts';
import type { WebPushSender } from './web-push.ts';

type Payload<E extends { payload: z.ZodType }> = z.infer<E['payload']>;
type FanOut = z.infer<typeof fanOutJob.payload>;

/** Rows deleted per statement by the cleanup, so it never holds a long lock. */
const CLEAN_CHUNK = 10_000;
const READ_KEPT_MS = 30 * 86_400_000;
/** Pushes in flight at once per job. */
const PUSH_CONCURRENCY = 16;
/** Subscriptions kept per user (a browser each): no account makes one notification a thousand pushes. */
const SUBSCRIPTIONS_PER_USER = 10;
/** Failed pushes in a row after which a subscription is dropped. */
const MAX_PUSH_FAILURES = 10;

export interface NotificationsDeps {
  db: Db;
  videos: VideosService;
  accounts: AccountsService;
  audit: AuditService;
  logger: Logger;
  /** Recipients per insert statement of a fan-out. */
  fanOutBatch: number;
}

export class NotificationsService {
  private pushSender?: WebPushSender;

  constructor(private readonly deps: NotificationsDeps) {}

  /** Web Push is ready once its keys are (read or made at start). */
  usePush(sender: WebPushSender): void {
    this.pushSender = sender;
  }

  get push(): WebPushSender {
    if (!this.pushSender) throw new Error('Web Push is not started');
    return this.pushSender;
  }

  // Events. Each runs in the transaction that moves its subscriber's cursor: written once.

  followed(tx: Tx, p: Payload<typeof userFollowed>): Promise<void> {
    return this.store(tx, onFollowed(p));
  }

  membershipChanged(tx: Tx, p: Payload<typeof channelMembershipChanged>): Promise<void> {
    return this.store(tx, onMembershipChanged(p));
  }

  liked(tx: Tx, p: Payload<typeof likeCreated>): Promise<void> {
    return this.store(tx, onLiked(p));
  }

  async commented(tx: Tx, p: Payload<typeof commentCreated>): Promise<void> {
    const planned = await this.whoCanSee(onCommented(p), p.video_owner_id);
    await this.store(tx, planned);
  }

  async commentEdited(tx: Tx, p: Payload<typeof commentEdited>): Promise<void> {
    await this.store(tx, await this.whoCanSee(onCommentEdited(p)));
  }

  /**
   * A video anyone may find in a list (public, published, its owner active) is announced to every
   * member of its channel whose tier opens it (at least subscribers); a private, unlisted or hidden
   * one is not. The members are reached by `notifications.fan_out` jobs, never here.
   */
  async videoPublished(tx: Tx, event: DeliveredEvent<Payload<typeof videoPublished>>): Promise<void> {
    const video = await repo.listableVideo(tx, event.payload.video_id);
    if (!video) return;
    await this.planFanOut(tx, {
      // A video published, taken down and published again is announced once.
      source_id: `video:${video.id}`,
      audience: {
        kind: 'channel',
        channel_id: video.channel_id,
        min_tier: video.access_tier === 2 ? 2 : 1,
        exclude_user_id: video.owner_id,
      },
      notification: {
        type: 'new_video',
        actor_id: null,
        video_id: video.id,
        channel_id: video.channel_id,
        data: {
          video: { id: video.id, title: video.title },
          channel: { id: video.channel_id, handle: video.channel_handle, name: video.channel_name },
        },
      },
    });
  }

  /**
   * Cuts the audience into slices of FANOUT_BATCH user ids (read from an index, never loading the
   * audience) and queues one `notifications.fan_out` job per slice, in the caller's transaction: the
   * slices run side by side on the workers, and nobody waits for them.
   */
  private async planFanOut(tx: Tx, fanOut: Omit<FanOut, 'range'>): Promise<void> {
    const bounds = await repo.sliceBounds(tx, fanOut.audience, this.deps.fanOutBatch);
    const ranges = [null, ...bounds].map((after, i) => ({ after, upto: bounds[i] ?? null }));
    for (const range of ranges) {
      await enqueue(
        tx,
        fanOutJob,
        { ...fanOut, range },
        {
          jobKey: `notifications.fan_out:${fanOut.source_id}:${range.after}`,
        },
      );
    }
  }

  /** Recipients other than the video's owner must be able to see the video (a mention in a private one). */
  private async whoCanSee(planned: PlannedNotification[], ownerId?: string): Promise<PlannedNotification[]> {
    const kept: PlannedNotification[] = [];
    for (const n of planned) {
      if (n.user_id === ownerId || !n.video_id) {
        kept.push(n);
        continue;
      }
      const principal: Principal = { userId: n.user_id, sessionId: '', role: 'user' };
      try {
        await this.deps.videos.viewable(n.video_id, principal);
        kept.push(n);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
      }
    }
    return kept;
  }

  /** Stores, tells the live streams of every node, and queues the Web Push of what was stored. */
  private async store(tx: Tx, planned: PlannedNotification[]): Promise<void> {
    const inserted = await repo.insertPlanned(tx, planned);
    if (!inserted.length) return;
    const notice: LiveNotice = { user_ids: inserted.map((r) => r.user_id) };
    await publish(tx, NOTIFICATIONS_TOPIC, notice);
    const pushed = inserted.filter((r) => r.push);
    for (const sourceId of new Set(pushed.map((r) => r.source_id))) {
      const userIds = pushed.filter((r) => r.source_id === sourceId).map((r) => r.user_id);
      await enqueue(tx, pushJob, { source_id: sourceId, user_ids: userIds });
    }
  }

  // Jobs.

  /**
   * Stores one slice of a fan-out: one statement that skips those already notified, so a job run twice
   * stores nothing twice; tells the live streams of the slice's users and queues their pushes.
   */
  async fanOut(payload: FanOut): Promise<JobOutcome> {
    const { range } = payload;
    await this.deps.db.transaction().execute(async (tx) => {
      const { inserted, to_push } = await repo.fanOutSlice(
        tx,
        payload.source_id,
        payload.audience,
        range,
        payload.notification,
      );
      if (inserted > 0) await publish(tx, NOTIFICATIONS_TOPIC, { range } satisfies LiveNotice);
      if (to_push > 0) await enqueue(tx, pushJob, { source_id: payload.source_id, range });
    });
    return 'done';
  }

  /** Pushes one source's unread notifications to every subscription of their recipients. */
  async pushOut(payload: z.infer<typeof pushJob.payload>): Promise<JobOutcome> {
    const sender = this.pushSender;
    if (!sender) return 'skipped';
    const who = payload.user_ids
      ? { userIds: payload.user_ids }
      : { range: payload.range ?? { after: null, upto: null } };
    const targets = await repo.pushTargets(this.deps.db, payload.source_id, who);
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const t = targets[next++]!;
        const result = await sender.send(t, JSON.stringify(pushMessage(t)));
        if (result.outcome !== 'delivered') {
          this.deps.logger.info(
            { subscription: t.subscription_id, status: result.status, error: result.error },
            'web push not delivered',
          );
        }
        await repo.recordPush(this.deps.db, t.subscription_id, result.outcome, MAX_PUSH_FAILURES);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, targets.length) }, worker));
    return targets.length ? 'done' : 'skipped';
  }

  /** Read notifications are kept 30 days after they were read. */
  async cleanRead(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - READ_KEPT_MS);
    let total = 0;
    for (;;) {
      const n = await repo.deleteReadBefore(this.deps.db, cutoff, CLEAN_CHUNK);
      total += n;
      if (n < CLEAN_CHUNK) return total;
    }
  }

  // What a user reads and changes.

  list(userId: string, opts: { unreadOnly: boolean; limit: number; beforeId?: number }) {
    return repo.listOf(this.deps.db, userId, opts);
  }

  unreadCount(userId: string): Promise<number> {
    return repo.unreadCount(this.deps.db, userId);
  }

  lastIdOf(userId: string): Promise<number> {
    return repo.lastIdOf(this.deps.db, userId);
  }

  async markRead(userId: string, id: number): Promise<void> {
    if (!(await repo.markRead(this.deps.db, userId, id))) throw new DomainError('NOTIFICATION_NOT_FOUND');
  }

  markAllRead(userId: string): Promise<number> {
    return repo.markAllRead(this.deps.db, userId);
  }

  async settings(userId: string, db: DbOrTx = this.deps.db): Promise<Record<NotificationType, Delivery>> {
    const saved = new Map((await repo.settingsOf(db, userId)).map((r) => [r.type, r]));
    return Object.fromEntries(
      NOTIFICATION_TYPES.map((type) => {
        const row = saved.get(type);
        return [type, row ? { in_app: row.in_app, push: row.push } : defaultDelivery(type)];
      }),
    ) as Record<NotificationType, Delivery>;
  }

  /** Changes the types named (each channel named), keeping the rest; answers every type's settings. */
  async updateSettings(
    userId: string,
    patch: Partial<Record<NotificationType, Partial<Delivery>>>,
  ): Promise<Record<NotificationType, Delivery>> {
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await this.settings(userId, tx);
      const rows = Object.entries(patch).map(([type, change]) => ({
        user_id: userId,
        type: type as NotificationType,
        ...current[type as NotificationType],
        ...change,
      }));
      await repo.saveSettings(tx, rows);
      return this.settings(userId, tx);
    });
  }

  async subscribePush(
    userId: string,
    input: z.infer<typeof pushSubscriptionBody>,
  ): Promise<repo.PushSubscriptionRow & { created: boolean }> {
    try {
      await this.push.checkEndpoint(input.endpoint);
    } catch (err) {
      if (!(err instanceof AddressRefusedError)) throw err;
      throw new DomainError('PUSH_ENDPOINT_FORBIDDEN', err.message, {
        fields: [{ field: 'endpoint', message: err.message }],
      });
    }
    return this.deps.db.transaction().execute((tx) =>
      repo.savePushSubscription(
        tx,
        {
          id: uuidv7(),
          user_id: userId,
          endpoint: input.endpoint,
          p256dh: input.keys.p256dh,
          auth: input.keys.auth,
        },
        SUBSCRIPTIONS_PER_USER,
      ),
    );
  }

  async unsubscribePush(userId: string, endpoint: string): Promise<void> {
    if (!(await repo.deletePushSubscription(this.deps.db, userId, endpoint))) {
      throw new DomainError('PUSH_SUBSCRIPTION_NOT_FOUND');
    }
  }

  /**
   * An administrator's message (`system`) to one account, or to every active one through a fan-out;
   * recorded in the audit log in the same transaction.
   */
  async sendSystem(
    admin: Principal,
    input: { user_id?: string; message: string },
  ): Promise<{ id: string; recipients: 'one' | 'everyone' }> {
    const id = uuidv7();
    const sourceId = `system:${id}`;
    if (input.user_id) await this.deps.accounts.getUser(input.user_id);
    await this.deps.db.transaction().execute(async (tx) => {
      const data = { message: input.message };
      if (input.user_id) {
        await this.store(tx, [
          {
            user_id: input.user_id,
            type: 'system',
            actor_id: null,
            video_id: null,
            comment_id: null,
            channel_id: null,
            source_id: sourceId,
            data,
          },
        ]);
      } else {
        await this.planFanOut(tx, {
          source_id: sourceId,
          audience: { kind: 'everyone' },
          notification: { type: 'system', actor_id: null, video_id: null, channel_id: null, data },
        });
      }
      await this.deps.audit.record(tx, {
        actorId: admin.userId,
        action: 'notification.system',
        targetType: input.user_id ? 'user' : 'instance',
        targetId: input.user_id ?? 'everyone',
        after: { id, message: input.message },
      });
    });
    return { id, recipients: input.user_id ? 'one' : 'everyone' };
  }
}
