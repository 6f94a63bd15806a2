// SQL for notifications, each user's settings and push subscriptions; the only code that writes these
// tables. Other modules' tables are only read here: users, videos, channels and comments for the names
// and titles a notification shows, channel_memberships for who hears of a new video.
import { type Generated, type RawBuilder, type Selectable, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { listable } from '../videos/index.ts';
import { type NotificationType, PUSHED_BY_DEFAULT } from './kinds.ts';
import type { PlannedNotification } from './recipients.ts';

type NotificationTable = {
  id: Generated<number>;
  user_id: string;
  type: NotificationType;
  actor_id: string | null;
  video_id: string | null;
  comment_id: string | null;
  channel_id: string | null;
  data: Record<string, unknown>;
  source_id: string;
  read_at: Date | null;
  created_at: Generated<Date>;
};

type SettingsTable = { user_id: string; type: NotificationType; in_app: boolean; push: boolean };

type PushSubscriptionTable = {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: Generated<Date>;
  last_success_at: Date | null;
  failures: Generated<number>;
};

type NotificationTables = {
  notifications: NotificationTable;
  notification_settings: SettingsTable;
  push_subscriptions: PushSubscriptionTable;
};

export type NotificationRow = Selectable<NotificationTable>;
export type SettingsRow = Selectable<SettingsTable>;
export type PushSubscriptionRow = Selectable<PushSubscriptionTable>;

const q = (db: DbOrTx) => db.withTables<NotificationTables>();

/** Whether the row of notification_settings `s` (or the default for `type`) asks for Web Push. */
const wantsPush = (type: RawBuilder<unknown>) =>
  sql<boolean>`coalesce(s.push, ${type} = any(${PUSHED_BY_DEFAULT}::text[]))`;

/** Inserted rows: whose they are, and whether a Web Push should follow (wanted, and somewhere to send). */
export interface Inserted {
  user_id: string;
  source_id: string;
  push: boolean;
}

/**
 * Stores the planned notifications their recipients want in the list (notification_settings.in_app),
 * once per user and source, with the names and titles they show read now. Recipients that no longer
 * exist, and notifications about a video already deleted, are dropped rather than failing the event.
 */
export async function insertPlanned(tx: DbOrTx, planned: PlannedNotification[]): Promise<Inserted[]> {
  if (!planned.length) return [];
  const { rows } = await sql<Inserted>`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(planned)}::jsonb) as r(user_id uuid, type text,
        actor_id uuid, video_id uuid, comment_id uuid, channel_id uuid, source_id text, data jsonb)
    ), chosen as (
      select r.*, ${wantsPush(sql`r.type`)} as push
      from input r
      join users u on u.id = r.user_id
      left join notification_settings s on s.user_id = r.user_id and s.type = r.type
      where coalesce(s.in_app, true)
        and (r.video_id is null or exists (select 1 from videos v where v.id = r.video_id))
    ), ins as (
      insert into notifications (user_id, type, actor_id, video_id, comment_id, channel_id, data, source_id)
      select c.user_id, c.type, a.id, c.video_id, c.comment_id, c.channel_id,
        c.data || jsonb_strip_nulls(jsonb_build_object(
          'actor', case when a.id is not null then
            jsonb_build_object('id', a.id, 'username', a.username, 'display_name', a.display_name) end,
          'video', (select jsonb_build_object('id', v.id, 'title', v.title) from videos v where v.id = c.video_id),
          'channel', (select jsonb_build_object('id', ch.id, 'handle', ch.handle, 'name', ch.name)
            from channels ch where ch.id = c.channel_id),
          'excerpt', (select left(cm.body, 140) from comments cm
            where cm.id = c.comment_id and cm.deleted_at is null)
        )),
        c.source_id
      from chosen c
      left join users a on a.id = c.actor_id
      on conflict (user_id, source_id) do nothing
      returning user_id, source_id
    )
    select ins.user_id, ins.source_id,
      c.push and exists (select 1 from push_subscriptions p where p.user_id = ins.user_id) as push
    from ins join chosen c on c.user_id = ins.user_id and c.source_id = ins.source_id`.execute(tx);
  return rows;
}

/** Who a fan-out reaches: the members of a channel from a tier up, or every active account. */
export type Audience =
  | { kind: 'channel'; channel_id: string; min_tier: 1 | 2; exclude_user_id: string }
  | { kind: 'everyone' };

/** A slice of the audience by user id: after `after` (exclusive), up to `upto` (inclusive); null: open. */
export interface UserRange {
  after: string | null;
  upto: string | null;
}

/** The same notification for a whole audience; the video, when named, must still be listable. */
export interface FanOutNotification {
  type: NotificationType;
  actor_id: string | null;
  video_id: string | null;
  channel_id: string | null;
  data: Record<string, unknown>;
}

function audienceIds(audience: Audience, range: UserRange): RawBuilder<unknown> {
  const col = audience.kind === 'channel' ? sql.ref('m.user_id') : sql.ref('u.id');
  const bounds = sql`${range.after ? sql`and ${col} > ${range.after}` : sql``}
    ${range.upto ? sql`and ${col} <= ${range.upto}` : sql``}`;
  if (audience.kind === 'channel') {
    return sql`select m.user_id from channel_memberships m
      where m.channel_id = ${audience.channel_id} and m.tier >= ${audience.min_tier}
        and m.user_id <> ${audience.exclude_user_id} ${bounds}`;
  }
  return sql`select u.id as user_id from users u where u.status = 'active' ${bounds}`;
}

/**
 * The user ids that cut the audience into slices of `size` (each slice ends at one, the last is open):
 * read from the index, never loading the audience.
 */
export async function sliceBounds(db: DbOrTx, audience: Audience, size: number): Promise<string[]> {
  const { rows } = await sql<{ user_id: string }>`
    select user_id from (
      select b.user_id, row_number() over (order by b.user_id) as n
      from (${audienceIds(audience, { after: null, upto: null })}) b
    ) x
    where n % ${size} = 0
    order by user_id`.execute(db);
  return rows.map((r) => r.user_id);
}

/**
 * One slice of a fan-out, in one statement: inserts the notification for every member of the slice
 * who wants it in the list, skipping those who already have it (a retried job adds nothing). Answers
 * how many were stored, and how many of those should be pushed.
 */
export async function fanOutSlice(
  tx: DbOrTx,
  sourceId: string,
  audience: Audience,
  range: UserRange,
  n: FanOutNotification,
): Promise<{ inserted: number; to_push: number }> {
  const stillListable = n.video_id
    ? sql`and exists (select 1 from videos v where v.id = ${n.video_id} and ${listable('v')})`
    : sql``;
  const { rows } = await sql<{ inserted: number; to_push: number }>`
    with slice as (
      select b.user_id, ${wantsPush(sql`${n.type}::text`)} as push
      from (${audienceIds(audience, range)}) b
      left join notification_settings s on s.user_id = b.user_id and s.type = ${n.type}
      where coalesce(s.in_app, true) ${stillListable}
    ), ins as (
      insert into notifications (user_id, type, actor_id, video_id, channel_id, data, source_id)
      select slice.user_id, ${n.type}, ${n.actor_id}::uuid, ${n.video_id}::uuid, ${n.channel_id}::uuid,
        ${JSON.stringify(n.data)}::jsonb, ${sourceId}
      from slice
      on conflict (user_id, source_id) do nothing
      returning user_id
    )
    select count(*)::int as inserted,
      (count(*) filter (where slice.push
        and exists (select 1 from push_subscriptions p where p.user_id = ins.user_id)))::int as to_push
    from ins join slice using (user_id)`.execute(tx);
  return rows[0] ?? { inserted: 0, to_push: 0 };
}

/** A page of a user's notifications, newest first (`limit + 1` rows: toPage). */
export async function listOf(
  db: DbOrTx,
  userId: string,
  opts: { unreadOnly: boolean; limit: number; beforeId?: number },
): Promise<NotificationRow[]> {
  let query = q(db).selectFrom('notifications').selectAll().where('user_id', '=', userId);
  if (opts.unreadOnly) query = query.where('read_at', 'is', null);
  if (opts.beforeId !== undefined) query = query.where('id', '<', opts.beforeId);
  return query
    .orderBy('id', 'desc')
    .limit(opts.limit + 1)
    .execute();
}

/** Served by notifications_unread_idx (partial: unread rows only). */
export async function unreadCount(db: DbOrTx, userId: string): Promise<number> {
  const row = await q(db)
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks one of the user's notifications read (kept as first read); false when it is not theirs. */
export async function markRead(db: DbOrTx, userId: string, id: number): Promise<boolean> {
  const row = await q(db)
    .updateTable('notifications')
    .set({ read_at: sql<Date>`coalesce(read_at, now())` })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function markAllRead(db: DbOrTx, userId: string): Promise<number> {
  const result = await q(db)
    .updateTable('notifications')
    .set({ read_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Deletes up to `limit` notifications read before `cutoff` (notifications_read_at_idx); answers how many. */
export async function deleteReadBefore(db: DbOrTx, cutoff: Date, limit: number): Promise<number> {
  const result = await sql`
    delete from notifications where id in (
      select id from notifications where read_at < ${cutoff} limit ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** The newest id of a user's notifications (0: none): where a live stream starts. */
export async function lastIdOf(db: DbOrTx, userId: string): Promise<number> {
  const row = await q(db)
    .selectFrom('notifications')
    .select((eb) => eb.fn.max('id').as('id'))
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** For each user, their notifications after the id given, oldest first, at most `limit` each. */
export async function newerThan(
  db: DbOrTx,
  cursors: { userId: string; after: number; limit: number }[],
): Promise<NotificationRow[]> {
  if (!cursors.length) return [];
  const { rows } = await sql<NotificationRow>`
    select n.* from unnest(${cursors.map((c) => c.userId)}::uuid[], ${cursors.map((c) => c.after)}::bigint[],
        ${cursors.map((c) => c.limit)}::int[]) as c(user_id, after, lim)
    cross join lateral (
      select * from notifications n where n.user_id = c.user_id and n.id > c.after order by n.id limit c.lim
    ) n
    order by n.id`.execute(db);
  return rows;
}

export async function settingsOf(db: DbOrTx, userId: string): Promise<SettingsRow[]> {
  return q(db).selectFrom('notification_settings').selectAll().where('user_id', '=', userId).execute();
}

export async function saveSettings(db: DbOrTx, rows: SettingsRow[]): Promise<void> {
  if (!rows.length) return;
  await q(db)
    .insertInto('notification_settings')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['user_id', 'type']).doUpdateSet((eb) => ({
        in_app: eb.ref('excluded.in_app'),
        push: eb.ref('excluded.push'),
      })),
    )
    .execute();
}

/**
 * Saves a browser's subscription for the user (the same endpoint moves to whoever registers it last:
 * the browser now belongs to them), keeping only the user's `keep` newest.
 */
export async function savePushSubscription(
  tx: DbOrTx,
  row: Pick<PushSubscriptionRow, 'id' | 'user_id' | 'endpoint' | 'p256dh' | 'auth'>,
  keep: number,
): Promise<PushSubscriptionRow & { created: boolean }> {
  const saved = await q(tx)
    .insertInto('push_subscriptions')
    .values(row)
    .onConflict((oc) =>
      oc.column('endpoint').doUpdateSet((eb) => ({
        user_id: eb.ref('excluded.user_id'),
        p256dh: eb.ref('excluded.p256dh'),
        auth: eb.ref('excluded.auth'),
        failures: 0,
      })),
    )
    .returningAll()
    .returning(sql<boolean>`xmax = 0`.as('created'))
    .executeTakeFirstOrThrow();
  await sql`
    delete from push_subscriptions where user_id = ${row.user_id} and id not in (
      select id from push_subscriptions where user_id = ${row.user_id}
      order by created_at desc, id desc limit ${keep})`.execute(tx);
  return saved;
}

export async function deletePushSubscription(db: DbOrTx, userId: string, endpoint: string): Promise<boolean> {
  const result = await q(db)
    .deleteFrom('push_subscriptions')
    .where('user_id', '=', userId)
    .where('endpoint', '=', endpoint)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** A notification to push and one subscription of its recipient. */
export type PushTarget = NotificationRow & {
  subscription_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
};

/**
 * The unread notifications of one source that their recipients want pushed, with each of their
 * subscriptions: for the users named, or for a slice of users. Starts from the few users who have a
 * subscription, then finds each one's notification by (user_id, source_id).
 */
export async function pushTargets(
  db: DbOrTx,
  sourceId: string,
  who: { userIds: string[] } | { range: UserRange },
): Promise<PushTarget[]> {
  const users =
    'userIds' in who
      ? sql`p.user_id = any(${who.userIds}::uuid[])`
      : sql`true ${who.range.after ? sql`and p.user_id > ${who.range.after}` : sql``}
          ${who.range.upto ? sql`and p.user_id <= ${who.range.upto}` : sql``}`;
  const { rows } = await sql<PushTarget>`
    select n.*, p.id as subscription_id, p.endpoint, p.p256dh, p.auth
    from push_subscriptions p
    join notifications n on n.user_id = p.user_id and n.source_id = ${sourceId}
    left join notification_settings s on s.user_id = n.user_id and s.type = n.type
    where ${users} and n.read_at is null and ${wantsPush(sql`n.type`)}
    order by n.id`.execute(db);
  return rows;
}

export type PushOutcome = 'delivered' | 'gone' | 'failed';

/**
 * What a push service answered: delivered resets the failures; gone (404, 410) removes the subscription,
 * as does the `maxFailures`-th failure in a row.
 */
export async function recordPush(
  db: DbOrTx,
  subscriptionId: string,
  outcome: PushOutcome,
  maxFailures: number,
): Promise<void> {
  if (outcome === 'delivered') {
    await q(db)
      .updateTable('push_subscriptions')
      .set({ last_success_at: sql<Date>`now()`, failures: 0 })
      .where('id', '=', subscriptionId)
      .execute();
    return;
  }
  if (outcome === 'failed') {
    await q(db)
      .updateTable('push_subscriptions')
      .set((eb) => ({ failures: eb('failures', '+', 1) }))
      .where('id', '=', subscriptionId)
      .execute();
  }
  await q(db)
    .deleteFrom('push_subscriptions')
    .where('id', '=', subscriptionId)
    .$if(outcome === 'failed', (qb) => qb.where('failures', '>=', maxFailures))
    .execute();
}

export interface AnnouncedVideo {
  id: string;
  title: string;
  owner_id: string;
  access_tier: 0 | 1 | 2;
  channel_id: string;
  channel_handle: string;
  channel_name: string;
  owner_username: string;
  owner_display_name: string;
}

/** A video anyone may find in a list (public, published, its owner active), with its channel. */
export async function listableVideo(db: DbOrTx, videoId: string): Promise<AnnouncedVideo | undefined> {
  const { rows } = await sql<AnnouncedVideo>`
    select v.id, v.title, v.owner_id, v.access_tier, ch.id as channel_id, ch.handle as channel_handle,
      ch.name as channel_name, u.username as owner_username, u.display_name as owner_display_name
    from videos v
    join channels ch on ch.owner_id = v.owner_id
    join users u on u.id = v.owner_id
    where v.id = ${videoId} and ${listable('v')}`.execute(db);
  return rows[0];
}
