// SQL for the videos table; the only code that writes it.
import { type Generated, type Selectable, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import type { MediaInfo } from '../../platform/media/media-info.ts';

export type VideoStatus = 'uploading' | 'uploaded' | 'processing' | 'playable' | 'ready' | 'failed';
export type Visibility = 'public' | 'unlisted' | 'private';
export type Publication = 'draft' | 'scheduled' | 'published' | 'unpublished' | 'rejected';
export type Category =
  | 'music'
  | 'gaming'
  | 'education'
  | 'entertainment'
  | 'technology'
  | 'sports'
  | 'news'
  | 'food'
  | 'travel'
  | 'lifestyle';
/** 0: everyone; 1: the channel's subscribers (and premium members); 2: premium members only. */
export type AccessTier = 0 | 1 | 2;

export interface RenditionInfo {
  name: string;
  width: number;
  height: number;
  fps: number;
  bandwidth: number;
  average_bandwidth: number;
  codecs: string;
}

type VideosTable = {
  id: string;
  owner_id: string;
  title: string;
  description: Generated<string>;
  status: Generated<VideoStatus>;
  visibility: Generated<Visibility>;
  source_filename: string | null;
  source_size: number | null;
  source_key: string | null;
  media_info: MediaInfo | null;
  renditions: RenditionInfo[] | null;
  media_version: Generated<number>;
  /** The version players are sent to; null until a run is playable. */
  playback_version: number | null;
  /** Moves whenever fewer people may watch: media URLs and playback tokens of other epochs are refused. */
  access_epoch: Generated<number>;
  processing_stage: string | null;
  processing_percent: Generated<number>;
  failure_code: string | null;
  failure_message: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  ready_at: Date | null;
  category: Category | null;
  language: string | null;
  tags: Generated<string[]>;
  access_tier: Generated<AccessTier>;
  publication: Generated<Publication>;
  publish_at: Date | null;
  published_at: Date | null;
  moderation_reason: string | null;
  hidden: Generated<boolean>;
  thumbnail_time_s: number | null;
  thumbnail_key: string | null;
  processing_job_id: string | null;
  processing_emitted_at: Date | null;
  /** The owner's switch: false turns comments off (the comments module reads it). */
  comments_enabled: Generated<boolean>;
};

export type VideosTables = { videos: VideosTable };
export type VideoRow = Selectable<VideosTable>;
export type OwnerStatus = 'active' | 'hidden' | 'deleted';
/** A video with its owner's account status, which decides whether anyone but an admin may see it. */
export type VideoAccessRow = VideoRow & { owner_status: OwnerStatus };

/** The owner's account, read (never written) here; the accounts module owns the table. */
type OwnersTables = { users: { id: string; status: OwnerStatus } };

/**
 * Read (never written) here: the owner's channel (channels module), view counts (views module), like
 * counts (likes module) and comment counts (comments module).
 */
type CatalogReadTables = {
  channels: { id: string; owner_id: string; handle: string; name: string };
  video_stats: { video_id: string; views_total: number | string };
  like_counts: { target_type: string; target_id: string; likes: number | string };
  video_comment_counts: { video_id: string; comments: number | string };
};

/** A video as the catalog shows it: with its channel and its view count. */
export type VideoDetailRow = VideoAccessRow & {
  channel_id: string | null;
  channel_handle: string | null;
  channel_name: string | null;
  views_count: number;
  likes_count: number;
  comments_count: number;
};

/** Videos with their owner's status, channel and views, under alias `videos`. */
export function detailQuery(db: DbOrTx) {
  return db
    .withTables<VideosTables & OwnersTables & CatalogReadTables>()
    .selectFrom('videos')
    .innerJoin('users', 'users.id', 'videos.owner_id')
    .leftJoin('channels', 'channels.owner_id', 'videos.owner_id')
    .leftJoin('video_stats', 'video_stats.video_id', 'videos.id')
    .leftJoin('like_counts', (join) =>
      join.onRef('like_counts.target_id', '=', 'videos.id').on('like_counts.target_type', '=', 'video'),
    )
    .leftJoin('video_comment_counts', 'video_comment_counts.video_id', 'videos.id')
    .selectAll('videos')
    .select([
      'users.status as owner_status',
      'channels.id as channel_id',
      'channels.handle as channel_handle',
      'channels.name as channel_name',
      sql<number>`coalesce(video_stats.views_total, 0)::int8`.as('views_count'),
      sql<number>`coalesce(like_counts.likes, 0)::int8`.as('likes_count'),
      sql<number>`coalesce(video_comment_counts.comments, 0)::int8`.as('comments_count'),
    ]);
}

/** One page of an owner's videos, newest first, after `beforeId`. Served by videos_owner_id_idx. */
export async function listOwned(
  db: DbOrTx,
  ownerId: string,
  page: { limit: number; beforeId?: string },
): Promise<VideoDetailRow[]> {
  let query = detailQuery(db).where('videos.owner_id', '=', ownerId);
  if (page.beforeId) query = query.where('videos.id', '<', page.beforeId);
  const rows = await query.orderBy('videos.id', 'desc').limit(page.limit).execute();
  return rows.map(withCounts);
}

export async function findVideoDetail(db: DbOrTx, id: string): Promise<VideoDetailRow | undefined> {
  const row = await detailQuery(db).where('videos.id', '=', id).executeTakeFirst();
  return row && withCounts(row);
}

/** bigint counts arrive as strings. */
function withCounts<R extends { views_count: number; likes_count: number; comments_count: number }>(
  row: R,
): R {
  return {
    ...row,
    views_count: Number(row.views_count),
    likes_count: Number(row.likes_count),
    comments_count: Number(row.comments_count),
  };
}

const q = (db: DbOrTx) => db.withTables<VideosTables>();

export async function insertVideo(
  db: DbOrTx,
  row: {
    id: string;
    owner_id: string;
    title: string;
    source_filename: string | null;
    source_size: number | null;
    publication?: Publication;
    publish_at?: Date | null;
  },
): Promise<VideoRow> {
  return q(db).insertInto('videos').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findVideo(db: DbOrTx, id: string): Promise<VideoRow | undefined> {
  return q(db).selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findVideoWithOwner(db: DbOrTx, id: string): Promise<VideoAccessRow | undefined> {
  return db
    .withTables<VideosTables & OwnersTables>()
    .selectFrom('videos')
    .innerJoin('users', 'users.id', 'videos.owner_id')
    .selectAll('videos')
    .select('users.status as owner_status')
    .where('videos.id', '=', id)
    .executeTakeFirst();
}

/** The caller's membership tier in the channel of `ownerId` (0 when none); channels owns the tables. */
export async function membershipTierOf(db: DbOrTx, ownerId: string, userId: string): Promise<0 | 1 | 2> {
  const { rows } = await sql<{ tier: 1 | 2 }>`
    select m.tier from channel_memberships m join channels c on c.id = m.channel_id
    where c.owner_id = ${ownerId} and m.user_id = ${userId}`.execute(db);
  return rows[0]?.tier ?? 0;
}

/** A video with its owner's status, the video's row locked until the transaction ends. */
export async function lockVideoWithOwner(db: DbOrTx, id: string): Promise<VideoAccessRow | undefined> {
  return db
    .withTables<VideosTables & OwnersTables>()
    .selectFrom('videos')
    .innerJoin('users', 'users.id', 'videos.owner_id')
    .selectAll('videos')
    .select('users.status as owner_status')
    .where('videos.id', '=', id)
    .forUpdate(['videos'])
    .executeTakeFirst();
}

export async function lockVideo(db: DbOrTx, id: string): Promise<VideoRow | undefined> {
  return q(db).selectFrom('videos').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export type VideoPatch = Partial<
  Pick<
    VideoRow,
    | 'status'
    | 'title'
    | 'description'
    | 'visibility'
    | 'source_key'
    | 'source_size'
    | 'media_info'
    | 'renditions'
    | 'media_version'
    | 'playback_version'
    | 'access_epoch'
    | 'processing_stage'
    | 'processing_percent'
    | 'failure_code'
    | 'failure_message'
    | 'ready_at'
    | 'category'
    | 'language'
    | 'tags'
    | 'access_tier'
    | 'publication'
    | 'publish_at'
    | 'published_at'
    | 'moderation_reason'
    | 'hidden'
    | 'thumbnail_time_s'
    | 'thumbnail_key'
    | 'processing_job_id'
    | 'processing_emitted_at'
    | 'comments_enabled'
  >
>;

export async function updateVideo(db: DbOrTx, id: string, patch: VideoPatch): Promise<VideoRow | undefined> {
  const values = {
    ...patch,
    media_info: patch.media_info === undefined ? undefined : jsonb(patch.media_info),
    renditions: patch.renditions === undefined ? undefined : jsonb(patch.renditions),
    updated_at: sql<Date>`now()`,
  };
  return q(db).updateTable('videos').set(values).where('id', '=', id).returningAll().executeTakeFirst();
}

/** The source size of a video still uploading; answers whether it was. */
export async function updateUploadingSize(db: DbOrTx, id: string, size: number): Promise<boolean> {
  const row = await q(db)
    .updateTable('videos')
    .set({ source_size: size, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', '=', 'uploading')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Progress is kept only while processing; answers the status it was kept under, if it was. */
export async function updateProgress(
  db: DbOrTx,
  id: string,
  stage: string,
  percent: number,
  emittedAt?: Date,
): Promise<VideoStatus | null> {
  const row = await q(db)
    .updateTable('videos')
    .set({
      processing_stage: stage,
      processing_percent: percent,
      ...(emittedAt ? { processing_emitted_at: emittedAt } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', 'in', ['processing', 'playable'])
    .returning('status')
    .executeTakeFirst();
  return row?.status ?? null;
}

/** Moves the access epoch of every video of one owner; answers how many there are. */
/**
 * Bytes a user's videos take: finished sources and the declared size of unfinished uploads. A failed
 * upload that never stored its source takes nothing. Served by videos_owner_id_idx.
 */
export async function sourceBytesOf(db: DbOrTx, ownerId: string): Promise<number> {
  const { rows } = await sql<{ used: number }>`
    select coalesce(sum(source_size), 0)::int8 as used from videos
    where owner_id = ${ownerId} and not (status = 'failed' and source_key is null)`.execute(db);
  return Number(rows[0]?.used ?? 0);
}

/** How many of a user's videos are still uploading. Served by videos_owner_id_idx. */
export async function uploadingCountOf(db: DbOrTx, ownerId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from videos where owner_id = ${ownerId} and status = 'uploading'`.execute(db);
  return rows[0]?.n ?? 0;
}

/** Videos still uploading that were registered longer ago than this. */
export async function uploadingSince(db: DbOrTx, seconds: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from videos
    where status = 'uploading' and created_at < now() - make_interval(secs => ${seconds})`.execute(db);
  return rows.map((r) => r.id);
}

/** Removes the row (video_stats goes with it). */
export async function deleteVideo(db: DbOrTx, id: string): Promise<void> {
  await q(db).deleteFrom('videos').where('id', '=', id).execute();
}

/** A batch of one owner's video ids, oldest first. Served by videos_owner_id_idx. */
export async function videoIdsOf(db: DbOrTx, ownerId: string, limit: number): Promise<string[]> {
  const rows = await q(db)
    .selectFrom('videos')
    .select('id')
    .where('owner_id', '=', ownerId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** Scheduled videos whose time has come and that can be watched. Served by videos_scheduled_idx. */
export async function duePublicationIds(db: DbOrTx, limit: number): Promise<string[]> {
  const rows = await q(db)
    .selectFrom('videos')
    .select('id')
    .where('publication', '=', 'scheduled')
    .where('publish_at', '<=', sql<Date>`now()`)
    .where('playback_version', 'is not', null)
    .orderBy('publish_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export async function bumpOwnerAccessEpochs(db: DbOrTx, ownerId: string): Promise<number> {
  const result = await q(db)
    .updateTable('videos')
    .set({ access_epoch: sql<number>`access_epoch + 1`, updated_at: sql<Date>`now()` })
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

// biome-ignore lint/suspicious/noExplicitAny: pg sends a JSON string; Kysely's column type stays the object
const jsonb = (value: unknown): any => (value === null ? null : JSON.stringify(value));
