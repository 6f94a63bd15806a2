// Reads of the catalog for recommendations (videos and video_stats are read here, never written).
// Every query filters with `listable`, the one rule for what strangers may find.
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { listable } from '../videos/index.ts';
import { type SummaryRow, summaryColumns, toSummary, type VideoSummary } from './summary.ts';

/** How many videos one tag (or the random pool) keeps in the cache. */
export const CANDIDATES_PER_LIST = 1000;

/** Listed, everyone-may-watch videos carrying a tag, newest first. */
export async function publicVideosTagged(db: DbOrTx, slug: string): Promise<VideoSummary[]> {
  const { rows } = await sql<SummaryRow>`select ${summaryColumns}
    from videos v left join video_stats s on s.video_id = v.id
    where v.tags @> array[${slug}]::text[] and v.access_tier = 0 and ${listable('v')}
    order by v.published_at desc nulls last, v.id desc
    limit ${CANDIDATES_PER_LIST}`.execute(db);
  return rows.map(toSummary);
}

/** A random sample of listed, everyone-may-watch videos: the fallback for viewers without tags. */
export async function randomPublicVideos(db: DbOrTx): Promise<VideoSummary[]> {
  const { rows } = await sql<SummaryRow>`select ${summaryColumns}
    from videos v left join video_stats s on s.video_id = v.id
    where v.access_tier = 0 and ${listable('v')}
    order by random()
    limit ${CANDIDATES_PER_LIST}`.execute(db);
  return rows.map(toSummary);
}

export async function publicVideosByIds(db: DbOrTx, ids: string[]): Promise<VideoSummary[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<SummaryRow>`select ${summaryColumns}
    from videos v left join video_stats s on s.video_id = v.id
    where v.id = any(${ids}::uuid[]) and v.access_tier = 0 and ${listable('v')}`.execute(db);
  return rows.map(toSummary);
}

/** A video's tags now (empty when it is gone): whose lists an event about it must drop. */
export async function tagsOfVideo(db: DbOrTx, id: string): Promise<string[]> {
  const { rows } = await sql<{ tags: string[] }>`select tags from videos where id = ${id}`.execute(db);
  return rows[0]?.tags ?? [];
}
