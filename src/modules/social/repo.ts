// SQL of the social module: the only code that writes follows and user_follow_counts. It reads users,
// videos, channels, channel_memberships and user_like_counts (owned elsewhere); it never writes them.
import { type Generated, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { listable } from '../videos/index.ts';

type SocialTables = {
  follows: { follower_id: string; followee_id: string; created_at: Generated<Date> };
  user_follow_counts: { user_id: string; followers: Generated<number>; following: Generated<number> };
};

const q = (db: DbOrTx) => db.withTables<SocialTables>();

/** A timestamp to the microsecond, for cursors: a JS Date keeps milliseconds only. */
const sortKey = (column: string) =>
  sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export type UserStatus = 'active' | 'hidden' | 'deleted';

export async function userStatus(db: DbOrTx, userId: string): Promise<UserStatus | undefined> {
  const { rows } = await sql<{ status: UserStatus }>`select status from users where id = ${userId}`.execute(
    db,
  );
  return rows[0]?.status;
}

/** Adds the follow unless it exists; answers whether it was added. */
export async function insertFollow(db: DbOrTx, followerId: string, followeeId: string): Promise<boolean> {
  const row = await q(db)
    .insertInto('follows')
    .values({ follower_id: followerId, followee_id: followeeId })
    .onConflict((oc) => oc.doNothing())
    .returning('created_at')
    .executeTakeFirst();
  return row !== undefined;
}

/** Removes the follow if it exists; answers whether it was removed. */
export async function deleteFollow(db: DbOrTx, followerId: string, followeeId: string): Promise<boolean> {
  const row = await q(db)
    .deleteFrom('follows')
    .where('follower_id', '=', followerId)
    .where('followee_id', '=', followeeId)
    .returning('created_at')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Moves both counters of one follow by `delta`, in the transaction that added or removed its row. The
 * two rows are always changed in the order of their ids, so crossing follows (A → B while B → A) queue
 * instead of deadlocking.
 */
export async function countFollow(
  db: DbOrTx,
  followerId: string,
  followeeId: string,
  delta: 1 | -1,
): Promise<void> {
  const changes = [
    { user_id: followerId, followers: 0, following: delta },
    { user_id: followeeId, followers: delta, following: 0 },
  ].sort((a, b) => (a.user_id < b.user_id ? -1 : 1));
  for (const c of changes) {
    if (delta > 0) {
      await q(db)
        .insertInto('user_follow_counts')
        .values(c)
        .onConflict((oc) =>
          oc.column('user_id').doUpdateSet({
            followers: sql`user_follow_counts.followers + excluded.followers`,
            following: sql`user_follow_counts.following + excluded.following`,
          }),
        )
        .execute();
    } else {
      // The row exists: the follow being removed made it. An insert of -1 would fail its check first.
      await q(db)
        .updateTable('user_follow_counts')
        .set({
          followers: sql`followers + ${c.followers}`,
          following: sql`following + ${c.following}`,
        })
        .where('user_id', '=', c.user_id)
        .execute();
    }
  }
}

export async function isFollowing(db: DbOrTx, followerId: string, followeeId: string): Promise<boolean> {
  const row = await q(db)
    .selectFrom('follows')
    .select('created_at')
    .where('follower_id', '=', followerId)
    .where('followee_id', '=', followeeId)
    .executeTakeFirst();
  return row !== undefined;
}

export interface FollowUserRow {
  id: string;
  username: string;
  display_name: string;
  followed_at: Date;
  sort_key: string;
}

/**
 * One page of a user's followers (`side` followers) or of whom they follow (`following`), newest follow
 * first, active accounts only. The order (created_at desc, other id asc) is the one of the follows
 * indexes, so a page is one index range; `after` is the last row's sort key and id.
 */
export async function listFollows(
  db: DbOrTx,
  userId: string,
  side: 'followers' | 'following',
  opts: { limit: number; after?: [string, string] },
): Promise<FollowUserRow[]> {
  const [self, other] =
    side === 'followers'
      ? (['followee_id', 'follower_id'] as const)
      : (['follower_id', 'followee_id'] as const);
  const mine = sql.ref(`f.${self}`);
  const theirs = sql.ref(`f.${other}`);
  const after = opts.after
    ? sql`and f.created_at <= ${opts.after[0]}::timestamptz
        and (f.created_at < ${opts.after[0]}::timestamptz or ${theirs} > ${opts.after[1]}::uuid)`
    : sql``;
  const { rows } = await sql<FollowUserRow>`
    select u.id, u.username, u.display_name, f.created_at as followed_at, ${sortKey('f.created_at')} as sort_key
    from follows f
    join users u on u.id = ${theirs} and u.status = 'active'
    where ${mine} = ${userId} ${after}
    order by f.created_at desc, ${theirs} asc
    limit ${opts.limit}`.execute(db);
  return rows;
}

export interface UserStatsRow {
  followers: number;
  following: number;
  videos: number;
  likes_received: number;
}

/** The counters (absent rows count 0) and the videos anyone may find in a list. */
export async function statsOf(db: DbOrTx, userId: string): Promise<UserStatsRow> {
  const { rows } = await sql<UserStatsRow>`
    select
      coalesce(c.followers, 0)::int8 as followers,
      coalesce(c.following, 0)::int8 as following,
      (select count(*) from videos v where v.owner_id = ${userId} and ${listable('v')})::int8 as videos,
      coalesce((select l.likes_received from user_like_counts l where l.user_id = ${userId}), 0)::int8
        as likes_received
    from (select 1) one
    left join user_follow_counts c on c.user_id = ${userId}`.execute(db);
  return rows[0]!;
}

/** Members of any tier (premium members subscribe too), as the channel's page counts them. */
export async function memberCount(db: DbOrTx, channelId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int8 as n from channel_memberships where channel_id = ${channelId}`.execute(db);
  return rows[0]?.n ?? 0;
}

export interface MembershipRow {
  id: string;
  owner_id: string;
  handle: string;
  name: string;
  avatar_key: string | null;
  tier: 1 | 2;
  subscribed_at: Date;
  sort_key: string;
}

/** The channels a user belongs to (any tier), newest membership first; channels of hidden owners aside. */
export async function listMemberships(
  db: DbOrTx,
  userId: string,
  opts: { limit: number; after?: [string, string] },
): Promise<MembershipRow[]> {
  const after = opts.after
    ? sql`and (m.created_at, m.channel_id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  const { rows } = await sql<MembershipRow>`
    select c.id, c.owner_id, c.handle, c.name, c.avatar_key, m.tier, m.created_at as subscribed_at,
      ${sortKey('m.created_at')} as sort_key
    from channel_memberships m
    join channels c on c.id = m.channel_id
    join users o on o.id = c.owner_id and o.status = 'active'
    where m.user_id = ${userId} ${after}
    order by m.created_at desc, m.channel_id desc
    limit ${opts.limit}`.execute(db);
  return rows;
}

/**
 * Removes every follow of and by `userId` and takes them off the counters, in one transaction. The
 * counter rows are locked in the order of their ids first, as single follows lock them, so this cannot
 * deadlock with a follow running meanwhile. Answers how many follows went.
 */
export async function removeAllFollowsOf(db: DbOrTx, userId: string): Promise<number> {
  await sql`
    select 1 from user_follow_counts c
    where c.user_id = ${userId}
      or c.user_id in (select followee_id from follows where follower_id = ${userId})
      or c.user_id in (select follower_id from follows where followee_id = ${userId})
    order by c.user_id
    for update`.execute(db);
  const { rows } = await sql<{ removed: number }>`
    with gone as (
      delete from follows where follower_id = ${userId} or followee_id = ${userId}
      returning follower_id, followee_id
    ),
    changes as (
      select user_id, sum(followers) as followers, sum(following) as following from (
        select followee_id as user_id, 1 as followers, 0 as following from gone
        union all
        select follower_id, 0, 1 from gone
      ) each_side
      group by user_id
    ),
    counted as (
      update user_follow_counts c
      set followers = c.followers - ch.followers, following = c.following - ch.following
      from changes ch where c.user_id = ch.user_id
    )
    select count(*)::int8 as removed from gone`.execute(db);
  return rows[0]?.removed ?? 0;
}
