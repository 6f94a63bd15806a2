// SQL of the feeds module. It owns no table: it reads who the viewer follows (follows, social) and which
// channels they belong to (channel_memberships, channels), what they liked (likes) and watched
// (viewer_states, viewing: checked per candidate, so any number of watched videos is left out), and the
// videos; it writes nothing. Every list filters with `listable`.
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import type { PreparedPool } from '../../platform/db/prepared-pool.ts';
import { type SummaryRow, summaryColumns } from '../discovery/index.ts';
import { activeOwner, listable, listableRow } from '../videos/index.ts';

/** The accounts whose videos make the viewer's feed: owners of channels they belong to, and followees. */
const followedOwners = (userId: string) => sql`followed_owners as (
  select o.owner_id from (
    select c.owner_id from channel_memberships m join channels c on c.id = m.channel_id
    where m.user_id = ${userId}
    union
    select f.followee_id from follows f where f.follower_id = ${userId}) o
  where ${activeOwner(sql.ref('o.owner_id'))})`;

const notWatchedBy = (userId: string) => sql`not exists (select 1 from viewer_states w
  where w.user_id = ${userId} and w.video_id = v.id and w.watched_at is not null)`;

/**
 * Where the feeds' reads run: `db` compiles (and is the connection in a transaction), `pool` runs them as
 * prepared statements, since planning these queries costs as much as running them.
 */
export interface Reads {
  db: DbOrTx;
  pool: PreparedPool;
}

export interface FeedRow extends SummaryRow {
  /** published_at at full precision (microseconds), for the cursor: a JS Date keeps milliseconds. */
  sort_key: string;
}

/**
 * The newest videos of the followed owners (active ones: listable's owner check, once per owner), `limit` at most, from just after `after` (the sort key and id
 * of the last row of the previous page). Each owner's videos are read newest first through
 * videos_listed_owner_idx (the listable ones, by owner, newest first) and stop at `perOwner` (default
 * `limit`, which a page needs: its rows may all be one owner's), so the cost grows with the owners
 * followed, not with the videos they have.
 */
export async function followedVideos(
  { db, pool }: Reads,
  userId: string,
  opts: { limit: number; after?: [string, string]; perOwner?: number },
): Promise<FeedRow[]> {
  const after = opts.after
    ? sql`and (v.published_at, v.id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  return pool.query(
    sql<FeedRow>`
    with ${followedOwners(userId)},
    picked as (
      select p.id, p.published_at
      from followed_owners o
      cross join lateral (
        select v.id, v.published_at from videos v
        where v.owner_id = o.owner_id and v.published_at is not null and ${listableRow('v')} ${after}
        order by v.published_at desc, v.id desc
        limit ${opts.perOwner ?? opts.limit}
      ) p
      order by p.published_at desc, p.id desc
      limit ${opts.limit}
    )
    select ${summaryColumns},
      to_char(v.published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as sort_key
    from picked p
    join videos v on v.id = p.id
    left join video_stats s on s.video_id = v.id
    order by v.published_at desc, v.id desc`.compile(db),
  );
}

/** How many of the viewer's interest tags (viewing's, from what they liked and watched) a "similar" video may share. */
export const INTEREST_TAGS = 5;

/**
 * Ids of videos carrying any of `tags` (the viewer's interests) that they did not like, newest first.
 * Ordered by created_at so that PostgreSQL may walk videos_listed_created_idx and stop at `limit` when the
 * tags are common, or use videos_tags_idx when they are rare. Watched and own videos are left out later,
 * by `stillRecommendable`.
 */
export async function similarVideoIds(
  { db, pool }: Reads,
  userId: string,
  tags: string[],
  limit: number,
): Promise<string[]> {
  if (tags.length === 0) return [];
  const rows = await pool.query(
    sql<{ id: string }>`
    select v.id
    from videos v
    where v.tags && ${tags}::text[] and ${listable('v')}
      and not exists (select 1 from likes l
        where l.target_type = 'video' and l.target_id = v.id and l.user_id = ${userId})
    order by v.created_at desc, v.id desc
    limit ${limit}`.compile(db),
  );
  return rows.map((r) => r.id);
}

/**
 * Of `ids` (candidates picked a while ago), the summaries of those that may still be recommended to the
 * viewer now: listable, not watched, not their own. Run on every answer, so a cached candidate that was
 * hidden, made private or watched since never shows.
 */
export async function stillRecommendable(
  { db, pool }: Reads,
  userId: string | null,
  ids: string[],
): Promise<SummaryRow[]> {
  if (ids.length === 0) return [];
  const viewer = userId ? sql`and v.owner_id <> ${userId} and ${notWatchedBy(userId)}` : sql``;
  return pool.query(
    sql<SummaryRow>`
    select ${summaryColumns}
    from videos v
    left join video_stats s on s.video_id = v.id
    where v.id = any(${ids}::uuid[]) and ${listable('v')} ${viewer}`.compile(db),
  );
}
