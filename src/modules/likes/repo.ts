// SQL of the likes module: the only code that writes likes, like_counts and user_like_counts. It reads
// videos (whether one still exists, and liked videos' summaries) and never writes them.
import { type Generated, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { type SummaryRow, summaryColumns } from '../discovery/index.ts';
import { listable } from '../videos/index.ts';

export type TargetType = 'video' | 'comment';

type LikesTable = {
  target_type: TargetType;
  target_id: string;
  user_id: string;
  video_id: string;
  target_owner_id: string;
  created_at: Generated<Date>;
};
type LikeCountsTable = { target_type: TargetType; target_id: string; likes: Generated<number> };
type UserLikeCountsTable = { user_id: string; likes_received: Generated<number> };
type LikesTables = { likes: LikesTable; like_counts: LikeCountsTable; user_like_counts: UserLikeCountsTable };

const q = (db: DbOrTx) => db.withTables<LikesTables>();

export interface NewLike {
  target_type: TargetType;
  target_id: string;
  user_id: string;
  video_id: string;
  target_owner_id: string;
}

/**
 * Records a like unless the user already likes the target, or its video is gone; answers whether it
 * was new. The primary key makes a repeated or concurrent like of the same user count once.
 */
export async function insertLike(db: DbOrTx, like: NewLike): Promise<boolean> {
  const { rows } = await sql`
    insert into likes (target_type, target_id, user_id, video_id, target_owner_id)
    select ${like.target_type}, ${like.target_id}, ${like.user_id}, ${like.video_id}, ${like.target_owner_id}
    where exists (select 1 from videos where id = ${like.video_id})
    on conflict do nothing
    returning 1`.execute(db);
  return rows.length > 0;
}

export async function videoExists(db: DbOrTx, videoId: string): Promise<boolean> {
  const { rows } = await sql`select 1 from videos where id = ${videoId}`.execute(db);
  return rows.length > 0;
}

/** Removes the user's like of the target; answers it, or undefined when there was none. */
export async function deleteLike(
  db: DbOrTx,
  key: { target_type: TargetType; target_id: string; user_id: string },
): Promise<{ video_id: string; target_owner_id: string } | undefined> {
  return q(db)
    .deleteFrom('likes')
    .where('target_type', '=', key.target_type)
    .where('target_id', '=', key.target_id)
    .where('user_id', '=', key.user_id)
    .returning(['video_id', 'target_owner_id'])
    .executeTakeFirst();
}

/** Every like of a video and of its comments goes; answers whose they were. Served by likes_video_idx. */
export async function deleteLikesOfVideo(
  db: DbOrTx,
  videoId: string,
): Promise<{ target_owner_id: string }[]> {
  return q(db).deleteFrom('likes').where('video_id', '=', videoId).returning('target_owner_id').execute();
}

export async function deleteLikesOf(
  db: DbOrTx,
  targetType: TargetType,
  targetId: string,
): Promise<{ target_owner_id: string }[]> {
  return q(db)
    .deleteFrom('likes')
    .where('target_type', '=', targetType)
    .where('target_id', '=', targetId)
    .returning('target_owner_id')
    .execute();
}

/** Adds `delta` to a video's like count (one row per video, locked by the change until the commit). */
export async function addVideoLikes(db: DbOrTx, videoId: string, delta: number): Promise<void> {
  await q(db)
    .insertInto('like_counts')
    .values({ target_type: 'video', target_id: videoId, likes: Math.max(delta, 0) })
    .onConflict((oc) =>
      oc
        .columns(['target_type', 'target_id'])
        .doUpdateSet({ likes: sql`greatest(like_counts.likes + ${delta}, 0)` }),
    )
    .execute();
}

export async function deleteVideoCount(db: DbOrTx, videoId: string): Promise<void> {
  await q(db)
    .deleteFrom('like_counts')
    .where('target_type', '=', 'video')
    .where('target_id', '=', videoId)
    .execute();
}

/** Adds `delta` to the likes a user received. */
export async function addLikesReceived(db: DbOrTx, userId: string, delta: number): Promise<void> {
  await q(db)
    .insertInto('user_like_counts')
    .values({ user_id: userId, likes_received: Math.max(delta, 0) })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        likes_received: sql`greatest(user_like_counts.likes_received + ${delta}, 0)`,
      }),
    )
    .execute();
}

export type LikedVideoRow = SummaryRow & { liked_at: Date; liked_key: string };

/**
 * The videos a user liked, last liked first: those anyone may find, and the user's own. Served by
 * likes_user_idx.
 */
export async function likedVideos(
  db: DbOrTx,
  userId: string,
  opts: { limit: number; after?: [string, string] },
): Promise<LikedVideoRow[]> {
  const after = opts.after
    ? sql`and (l.created_at, l.target_id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  const { rows } = await sql<LikedVideoRow>`
    select ${summaryColumns}, l.created_at as liked_at,
      to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as liked_key
    from likes l
    join videos v on v.id = l.target_id
    left join video_stats s on s.video_id = v.id
    where l.user_id = ${userId} and l.target_type = 'video' and (${listable('v')} or v.owner_id = ${userId})
      ${after}
    order by l.created_at desc, l.target_id desc
    limit ${opts.limit}`.execute(db);
  return rows;
}

/**
 * The database clock now, not at the start of the transaction: read after the like row is written (and
 * locked), so a like and the unlike that waited for it carry times in the order they happened.
 */
export async function clockNow(db: DbOrTx): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(db);
  return rows[0]!.now;
}
