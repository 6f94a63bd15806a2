// SQL of the comments module: the only code that writes comments and video_comment_counts. It reads
// users (authors) and likes (the caller's likes) to answer comments; it never writes them.
import { type Generated, type Selectable, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';

type CommentsTable = {
  id: string;
  video_id: string;
  author_id: string;
  parent_id: string | null;
  body: string;
  mentions: Generated<string[]>;
  reply_count: Generated<number>;
  like_count: Generated<number>;
  created_at: Generated<Date>;
  edited_at: Date | null;
  deleted_at: Date | null;
};

type CountsTable = { video_id: string; comments: Generated<number> };

type CommentsTables = { comments: CommentsTable; video_comment_counts: CountsTable };
export type CommentRow = Selectable<CommentsTable>;

/** A comment as answered: with its author's account and whether the caller likes it. */
export interface CommentView {
  id: string;
  video_id: string;
  parent_id: string | null;
  author_id: string;
  body: string;
  reply_count: number;
  like_count: number;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  author_username: string;
  author_display_name: string;
  author_status: 'active' | 'hidden' | 'deleted';
  liked_by_me: boolean;
  /** created_at at full precision (microseconds), for cursors: a JS Date keeps milliseconds. */
  sort_key: string;
}

const q = (db: DbOrTx) => db.withTables<CommentsTables>();

function viewSelect(me: string | null) {
  const liked = me
    ? sql`exists (select 1 from likes l
        where l.target_type = 'comment' and l.target_id = c.id and l.user_id = ${me})`
    : sql`false`;
  return sql`c.id, c.video_id, c.parent_id, c.author_id, c.body, c.reply_count, c.like_count, c.created_at,
    c.edited_at, c.deleted_at, u.username as author_username, u.display_name as author_display_name,
    u.status as author_status, ${liked} as liked_by_me,
    to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as sort_key`;
}

export async function findView(db: DbOrTx, id: string, me: string | null): Promise<CommentView | undefined> {
  const { rows } = await sql<CommentView>`
    select ${viewSelect(me)} from comments c join users u on u.id = c.author_id
    where c.id = ${id}`.execute(db);
  return rows[0];
}

export type ListAfter =
  | { order: 'newest'; key: [string, string] }
  | { order: 'top'; key: [number, string] }
  | undefined;

/**
 * A video's comments (not replies), tombstones included, `limit` rows from after the cursor. Served by
 * comments_video_new_idx and comments_video_top_idx.
 */
export async function listTopLevel(
  db: DbOrTx,
  videoId: string,
  opts: { order: 'newest' | 'top'; limit: number; after: ListAfter; me: string | null },
): Promise<CommentView[]> {
  let after = sql``;
  if (opts.after?.order === 'newest') {
    after = sql`and (c.created_at, c.id) < (${opts.after.key[0]}::timestamptz, ${opts.after.key[1]}::uuid)`;
  } else if (opts.after?.order === 'top') {
    after = sql`and (c.like_count, c.id) < (${opts.after.key[0]}::int8, ${opts.after.key[1]}::uuid)`;
  }
  const order = opts.order === 'top' ? sql`c.like_count desc, c.id desc` : sql`c.created_at desc, c.id desc`;
  const { rows } = await sql<CommentView>`
    select ${viewSelect(opts.me)} from comments c join users u on u.id = c.author_id
    where c.video_id = ${videoId} and c.parent_id is null ${after}
    order by ${order}
    limit ${opts.limit}`.execute(db);
  return rows;
}

/** Direct replies of a comment, oldest first (a thread reads in order). Served by comments_replies_idx. */
export async function listReplies(
  db: DbOrTx,
  parentId: string,
  opts: { limit: number; after?: [string, string]; me: string | null },
): Promise<CommentView[]> {
  const after = opts.after
    ? sql`and (c.created_at, c.id) > (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  const { rows } = await sql<CommentView>`
    select ${viewSelect(opts.me)} from comments c join users u on u.id = c.author_id
    where c.parent_id = ${parentId} ${after}
    order by c.created_at, c.id
    limit ${opts.limit}`.execute(db);
  return rows;
}

export async function findComment(db: DbOrTx, id: string): Promise<CommentRow | undefined> {
  return q(db).selectFrom('comments').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockComment(db: DbOrTx, id: string): Promise<CommentRow | undefined> {
  return q(db).selectFrom('comments').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function insertComment(
  db: DbOrTx,
  row: Pick<CommentRow, 'id' | 'video_id' | 'author_id' | 'parent_id' | 'body' | 'mentions'>,
): Promise<CommentRow> {
  return q(db).insertInto('comments').values(row).returningAll().executeTakeFirstOrThrow();
}

/**
 * One more reply under a live comment of the video; answers the parent's author, or undefined when
 * there is no such comment (deleted, or of another video). Locks the parent until the transaction
 * ends, so a deletion of it sees this reply.
 */
export async function addReply(db: DbOrTx, parentId: string, videoId: string): Promise<string | undefined> {
  const row = await q(db)
    .updateTable('comments')
    .set({ reply_count: sql`reply_count + 1` })
    .where('id', '=', parentId)
    .where('video_id', '=', videoId)
    .where('deleted_at', 'is', null)
    .returning('author_id')
    .executeTakeFirst();
  return row?.author_id;
}

/** One reply fewer; answers the parent as it is now (undefined when it is gone). */
export async function removeReply(db: DbOrTx, parentId: string): Promise<CommentRow | undefined> {
  return q(db)
    .updateTable('comments')
    .set({ reply_count: sql`greatest(reply_count - 1, 0)` })
    .where('id', '=', parentId)
    .returningAll()
    .executeTakeFirst();
}

export async function updateBody(
  db: DbOrTx,
  id: string,
  change: { body: string; mentions: string[] },
): Promise<CommentRow | undefined> {
  return q(db)
    .updateTable('comments')
    .set({ ...change, edited_at: sql`now()` })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Keeps the comment as a placeholder for its replies: no text, no mentions, no author shown. */
export async function tombstone(db: DbOrTx, id: string): Promise<void> {
  await q(db)
    .updateTable('comments')
    .set({ body: '', mentions: [], deleted_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

export async function deleteComment(db: DbOrTx, id: string): Promise<void> {
  await q(db).deleteFrom('comments').where('id', '=', id).execute();
}

/**
 * Adds `delta` to a comment's like count; answers false when no comment took it. A like (+1) counts
 * only on a live comment, and the row lock orders it with the comment's deletion.
 */
export async function addLikes(db: DbOrTx, id: string, delta: number): Promise<boolean> {
  let query = q(db)
    .updateTable('comments')
    .set({ like_count: sql`greatest(like_count + ${delta}, 0)` })
    .where('id', '=', id);
  if (delta > 0) query = query.where('deleted_at', 'is', null);
  const row = await query.returning('id').executeTakeFirst();
  return !!row;
}

/** Adds `delta` to the video's count of comments that are not deleted. */
export async function addToVideoCount(db: DbOrTx, videoId: string, delta: number): Promise<void> {
  await q(db)
    .insertInto('video_comment_counts')
    .values({ video_id: videoId, comments: Math.max(delta, 0) })
    .onConflict((oc) =>
      oc
        .column('video_id')
        .doUpdateSet({ comments: sql`greatest(video_comment_counts.comments + ${delta}, 0)` }),
    )
    .execute();
}
