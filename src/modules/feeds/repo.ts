// SQL of the feeds module. It owns no table: it reads who the viewer follows (follows, social) and which
// channels they belong to (channel_memberships, channels), what they liked (likes) and watched
// (viewer_states, viewing: checked per candidate, so any number of watched videos is left out), and the
// videos; it writes nothing. Every list filters with `listable`.
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { type SummaryRow, summaryColumns } from '../discovery/index.ts';
import { listable } from '../videos/index.ts';

/** The accounts whose videos make the viewer's feed: owners of channels they belong to, and followees. */
const followedOwners = (userId: string) => sql`followed_owners as (
  select c.owner_id from channel_memberships m join channels c on c.id = m.channel_id
  where m.user_id = ${userId}
  union
  select f.followee_id from follows f where f.follower_id = ${userId})`;

const notWatchedBy = (userId: string) => sql`not exists (select 1 from viewer_states w
  where w.user_id = ${userId} and w.video_id = v.id and w.watched_at is not null)`;

export interface FeedRow extends SummaryRow {
  /** published_at at full precision (microseconds), for the cursor: a JS Date keeps milliseconds. */
  sort_key: string;
}

/**
 * The newest videos of the followed owners, `limit` at most, from just after `after` (the sort key and id
 * of the last row of the previous page); `excludeWatched` leaves out what the viewer watched. Each owner's
 * videos are read newest first through videos_channel_list_idx (owner_id, published_at desc, id desc) and
 * stop at `limit`, so the cost grows with the owners followed, not with the videos they have.
 */
export async function followedVideos(
  db: DbOrTx,
  userId: string,
  opts: { limit: number; after?: [string, string]; excludeWatched?: boolean },
): Promise<FeedRow[]> {
  const after = opts.after
    ? sql`and (v.published_at, v.id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  const unwatched = opts.excludeWatched ? sql`and ${notWatchedBy(userId)}` : sql``;
  const { rows } = await sql<FeedRow>`
    with ${followedOwners(userId)},
    picked as (
      select p.id, p.published_at
      from followed_owners o
      cross join lateral (
        select v.id, v.published_at from videos v
        where v.owner_id = o.owner_id and v.published_at is not null and ${listable('v')} ${after} ${unwatched}
        order by v.published_at desc, v.id desc
        limit ${opts.limit}
      ) p
      order by p.published_at desc, p.id desc
      limit ${opts.limit}
    )
    select ${summaryColumns},
      to_char(v.published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as sort_key
    from picked p
    join videos v on v.id = p.id
    left join video_stats s on s.video_id = v.id
    order by v.published_at desc, v.id desc`.execute(db);
  return rows;
}

/** How many of the viewer's interest tags (viewing's, from what they liked and watched) a "similar" video may share. */
export const INTEREST_TAGS = 5;

/**
 * Videos carrying any of `tags` (the viewer's interests) that they neither liked nor watched, and not
 * their own; newest first. Ordered by created_at so that PostgreSQL may walk videos_listed_created_idx and
 * stop at `limit` when the tags are common, or use videos_tags_idx when they are rare.
 */
export async function similarVideos(
  db: DbOrTx,
  userId: string,
  tags: string[],
  limit: number,
): Promise<SummaryRow[]> {
  if (tags.length === 0) return [];
  const { rows } = await sql<SummaryRow>`
    select ${summaryColumns}
    from videos v
    left join video_stats s on s.video_id = v.id
    where v.tags && ${tags}::text[]
      and ${listable('v')} and v.owner_id <> ${userId} and ${notWatchedBy(userId)}
      and not exists (select 1 from likes l
        where l.target_type = 'video' and l.target_id = v.id and l.user_id = ${userId})
    order by v.created_at desc, v.id desc
    limit ${limit}`.execute(db);
  return rows;
}

/** Of `ids`, the ones the viewer watched. */
export async function watchedAmong(db: DbOrTx, userId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await sql<{ video_id: string }>`
    select video_id from viewer_states
    where user_id = ${userId} and video_id = any(${ids}::uuid[]) and watched_at is not null`.execute(db);
  return new Set(rows.map((r) => r.video_id));
}
