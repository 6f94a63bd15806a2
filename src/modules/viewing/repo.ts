// SQL of the viewing module: the only code that writes viewer_states. It reads videos, video_stats,
// users, channels and channel_memberships (owned elsewhere) to list what a viewer may still watch.
import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { type SummaryRow, summaryColumns } from '../discovery/index.ts';
import { seeableBy } from '../videos/index.ts';

export interface StateRow {
  liked: boolean;
  bookmarked: boolean;
  progress_s: number | null;
  completed: boolean;
}

/**
 * Sets liked or bookmarked to what an event says, unless the state holds a newer event's answer: an
 * event older than the one applied last (liked_at / bookmarked_at) changes nothing. The same event again
 * sets the same values. Events of one like (or one bookmark) arrive in order, so of two at the same
 * millisecond the later one wins. A video or account gone meanwhile is skipped (its rows went with it).
 */
export async function applyFlag(
  db: DbOrTx,
  flag: 'liked' | 'bookmarked',
  userId: string,
  videoId: string,
  value: boolean,
  at: Date,
): Promise<void> {
  const col = sql.ref(flag);
  const atCol = sql.ref(`${flag}_at`);
  await sql`insert into viewer_states (user_id, video_id, ${col}, ${atCol})
    select ${userId}, ${videoId}, ${value}, ${at}
    where exists (select 1 from videos where id = ${videoId})
      and exists (select 1 from users where id = ${userId})
    on conflict (user_id, video_id) do update
      set ${col} = excluded.${col}, ${atCol} = excluded.${atCol}, updated_at = now()
      where viewer_states.${atCol} is null or viewer_states.${atCol} <= excluded.${atCol}`.execute(db);
}

export async function saveProgress(
  db: DbOrTx,
  userId: string,
  videoId: string,
  p: { progress_s: number; duration_s: number | null; completed: boolean },
): Promise<StateRow> {
  const { rows } = await sql<StateRow>`
    insert into viewer_states (user_id, video_id, progress_s, duration_s, completed, watched_at)
    values (${userId}, ${videoId}, ${p.progress_s}, ${p.duration_s}, ${p.completed}, now())
    on conflict (user_id, video_id) do update set progress_s = excluded.progress_s,
      duration_s = excluded.duration_s, completed = excluded.completed, watched_at = now(), updated_at = now()
    returning liked, bookmarked, progress_s, completed`.execute(db);
  return rows[0]!;
}

export async function stateOf(db: DbOrTx, userId: string, videoId: string): Promise<StateRow | undefined> {
  const { rows } = await sql<StateRow>`select liked, bookmarked, progress_s, completed from viewer_states
    where user_id = ${userId} and video_id = ${videoId}`.execute(db);
  return rows[0];
}

/** Videos `userId` may watch now: ones they may see (videos' `seeableBy`) whose tier they hold. */
function watchableBy(userId: string): RawBuilder<boolean> {
  return sql<boolean>`(${seeableBy('v', userId)} and (v.access_tier = 0 or v.owner_id = ${userId}
    or exists (select 1 from channel_memberships m join channels ch on ch.id = m.channel_id
      where ch.owner_id = v.owner_id and m.user_id = ${userId} and m.tier >= v.access_tier)))`;
}

export type WatchedRow = SummaryRow & {
  progress_s: number;
  completed: boolean;
  watched_at: Date;
  /** watched_at to the microsecond, for the cursor. */
  watched_key: string;
};

/**
 * What the viewer watched, newest first, after the cursor's (watched_at, video_id), among videos they may
 * still watch; `unfinished`: only those started and not finished (continue watching).
 */
export async function watched(
  db: DbOrTx,
  userId: string,
  opts: { unfinished: boolean; limit: number; after?: [string, string] },
): Promise<WatchedRow[]> {
  const after = opts.after
    ? sql`and (vs.watched_at, vs.video_id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  const unfinished = opts.unfinished ? sql`and not vs.completed and vs.progress_s > 0` : sql``;
  const { rows } = await sql<WatchedRow>`select ${summaryColumns}, vs.progress_s, vs.completed,
      vs.watched_at,
      to_char(vs.watched_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as watched_key
    from viewer_states vs
    join videos v on v.id = vs.video_id
    left join video_stats s on s.video_id = v.id
    where vs.user_id = ${userId} and vs.watched_at is not null ${unfinished} ${after}
      and ${watchableBy(userId)}
    order by vs.watched_at desc, vs.video_id desc
    limit ${opts.limit}`.execute(db);
  return rows;
}

/** Ids of the videos the viewer watched (reported progress on), newest first. */
export async function watchedIds(db: DbOrTx, userId: string, limit: number): Promise<string[]> {
  const { rows } = await sql<{ video_id: string }>`select video_id from viewer_states
    where user_id = ${userId} and watched_at is not null
    order by watched_at desc, video_id desc limit ${limit}`.execute(db);
  return rows.map((r) => r.video_id);
}

/** How many recent liked or watched videos the interest tags are drawn from. */
export const INTEREST_SAMPLE = 200;

/**
 * The tags of the viewer's most recent liked and watched videos, heaviest first: a like weighs 2, a
 * watch 1 (both: 3).
 */
export async function interestTags(
  db: DbOrTx,
  userId: string,
  limit: number,
): Promise<Array<{ tag: string; weight: number }>> {
  const { rows } = await sql<{ tag: string; weight: number }>`
    select t.tag, sum(r.weight)::int as weight
    from (
      select v.tags, (case when vs.liked then 2 else 0 end)
        + (case when vs.watched_at is not null then 1 else 0 end) as weight
      from viewer_states vs join videos v on v.id = vs.video_id
      where vs.user_id = ${userId} and (vs.liked or vs.watched_at is not null)
      order by greatest(vs.watched_at, vs.liked_at) desc nulls last
      limit ${INTEREST_SAMPLE}
    ) r, unnest(r.tags) as t (tag)
    group by t.tag
    order by weight desc, t.tag
    limit ${limit}`.execute(db);
  return rows;
}
