// SQL of the channels module: the only code that writes channels and channel_memberships. It reads the
// videos, video_stats and users tables (owned elsewhere) for a channel's page; it never writes them.
import { type Generated, type Selectable, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { listable } from '../videos/index.ts';

type ChannelsTable = {
  id: string;
  owner_id: string;
  handle: string;
  name: string;
  description: Generated<string>;
  avatar_key: string | null;
  banner_key: string | null;
  /** numeric(10,2): pg answers it as a string ("4.99"), which is how the API shows it. */
  monthly_fee: Generated<string>;
  currency: Generated<string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
};

type MembershipsTable = {
  channel_id: string;
  user_id: string;
  tier: 1 | 2;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
};

type ChannelsTables = { channels: ChannelsTable; channel_memberships: MembershipsTable };
export type ChannelRow = Selectable<ChannelsTable>;
export type OwnerStatus = 'active' | 'hidden' | 'deleted';
export type ChannelWithOwner = ChannelRow & { owner_status: OwnerStatus };
export type ChannelPatch = Partial<
  Pick<
    ChannelRow,
    'handle' | 'name' | 'description' | 'avatar_key' | 'banner_key' | 'monthly_fee' | 'currency'
  >
>;

const q = (db: DbOrTx) => db.withTables<ChannelsTables>();

/** Inserts the channel unless its handle is taken (or its owner has one): then answers undefined. */
export async function insertChannelIfFree(
  db: DbOrTx,
  row: Pick<ChannelRow, 'id' | 'owner_id' | 'handle' | 'name'>,
): Promise<ChannelRow | undefined> {
  return q(db)
    .insertInto('channels')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

function withOwner(db: DbOrTx) {
  return db
    .withTables<ChannelsTables & { users: { id: string; status: OwnerStatus } }>()
    .selectFrom('channels')
    .innerJoin('users', 'users.id', 'channels.owner_id')
    .selectAll('channels')
    .select('users.status as owner_status');
}

export async function findById(db: DbOrTx, id: string): Promise<ChannelWithOwner | undefined> {
  return withOwner(db).where('channels.id', '=', id).executeTakeFirst();
}

/** Handles are unique case-insensitively (channels_handle_key is on lower(handle)). */
export async function findByHandle(db: DbOrTx, handle: string): Promise<ChannelWithOwner | undefined> {
  return withOwner(db)
    .where(sql<string>`lower(channels.handle)`, '=', handle.toLowerCase())
    .executeTakeFirst();
}

export async function findByOwner(db: DbOrTx, ownerId: string): Promise<ChannelWithOwner | undefined> {
  return withOwner(db).where('channels.owner_id', '=', ownerId).executeTakeFirst();
}

export async function channelIdOfOwner(db: DbOrTx, ownerId: string): Promise<string | null> {
  const row = await q(db)
    .selectFrom('channels')
    .select('id')
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
  return row?.id ?? null;
}

export async function lockById(db: DbOrTx, id: string): Promise<ChannelRow | undefined> {
  return q(db).selectFrom('channels').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateChannel(db: DbOrTx, id: string, patch: ChannelPatch): Promise<ChannelRow> {
  return q(db)
    .updateTable('channels')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Its memberships go with it (on delete cascade). */
export async function deleteChannel(db: DbOrTx, id: string): Promise<void> {
  await q(db).deleteFrom('channels').where('id', '=', id).execute();
}

export async function countsOf(
  db: DbOrTx,
  channel: Pick<ChannelRow, 'id' | 'owner_id'>,
): Promise<{ subscribers: number; premium: number; videos: number }> {
  const { rows } = await sql<{ subscribers: number; premium: number; videos: number }>`
    select
      (select count(*) from channel_memberships m where m.channel_id = ${channel.id})::int as subscribers,
      (select count(*) from channel_memberships m where m.channel_id = ${channel.id} and m.tier = 2)::int
        as premium,
      (select count(*) from videos v where v.owner_id = ${channel.owner_id} and ${listable('v')})::int
        as videos`.execute(db);
  return rows[0] ?? { subscribers: 0, premium: 0, videos: 0 };
}

export async function membershipTier(db: DbOrTx, channelId: string, userId: string): Promise<0 | 1 | 2> {
  const row = await q(db)
    .selectFrom('channel_memberships')
    .select('tier')
    .where('channel_id', '=', channelId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.tier ?? 0;
}

/**
 * Sets (tier 1 or 2) or ends (null) a membership and answers the tier it had before. Changes of one
 * membership take turns through a transaction-scoped advisory lock on the pair: a row lock alone would
 * not queue them while the row does not exist yet (two first subscriptions would both see "none").
 * With `from`, the tier changes only when the tier before is one of those (the answer says which it was).
 */
export async function setMembership(
  db: DbOrTx,
  channelId: string,
  userId: string,
  tier: 1 | 2 | null,
  from?: ReadonlyArray<1 | 2 | null>,
): Promise<1 | 2 | null> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`membership:${channelId}:${userId}`}, 0))`.execute(
    db,
  );
  const row = await q(db)
    .selectFrom('channel_memberships')
    .select('tier')
    .where('channel_id', '=', channelId)
    .where('user_id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  const before = (row?.tier as 1 | 2 | undefined) ?? null;
  if (before === tier || (from && !from.includes(before))) return before;
  if (tier === null) {
    await q(db)
      .deleteFrom('channel_memberships')
      .where('channel_id', '=', channelId)
      .where('user_id', '=', userId)
      .execute();
  } else {
    await q(db)
      .insertInto('channel_memberships')
      .values({ channel_id: channelId, user_id: userId, tier })
      .onConflict((oc) => oc.columns(['channel_id', 'user_id']).doUpdateSet({ tier, updated_at: sql`now()` }))
      .execute();
  }
  return before;
}

/** One video of a channel's public list. */
export interface ChannelVideoRow {
  id: string;
  title: string;
  duration_s: number | null;
  playback_version: number | null;
  access_epoch: number;
  thumbnail_key: string | null;
  access_tier: 0 | 1 | 2;
  visibility: 'public' | 'unlisted' | 'private';
  publication: string;
  hidden: boolean;
  published_at: Date;
  /** published_at at full precision (microseconds), for the cursor: a JS Date keeps milliseconds. */
  sort_key: string;
  views_count: number;
}

/**
 * The owner's videos anyone may find (listable), newest published first; `after` is the sort key and
 * id of the last row of the previous page.
 */
export async function listChannelVideos(
  db: DbOrTx,
  ownerId: string,
  opts: { limit: number; after?: [string, string] },
): Promise<ChannelVideoRow[]> {
  const after = opts.after
    ? sql`and (v.published_at, v.id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  const { rows } = await sql<ChannelVideoRow>`
    select v.id, v.title, (v.media_info->>'durationS')::float8 as duration_s, v.playback_version,
      v.access_epoch, v.thumbnail_key, v.access_tier, v.visibility, v.publication, v.hidden, v.published_at,
      to_char(v.published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as sort_key,
      coalesce(s.views_total, 0)::bigint as views_count
    from videos v
    left join video_stats s on s.video_id = v.id
    where v.owner_id = ${ownerId} and v.published_at is not null and ${listable('v')} ${after}
    order by v.published_at desc, v.id desc
    limit ${opts.limit}`.execute(db);
  return rows;
}
