// Reads of the trending lists. A video is checked again with `listable` as it is read: one hidden,
// made private or unpublished since the last recomputation never shows, whatever rank it was given.
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { type SummaryRow, summaryColumns } from '../discovery/index.ts';
import { listable } from '../videos/index.ts';
import type { Period } from './score.ts';

export interface TrendingVideoRow extends SummaryRow {
  rank: number;
  score: number;
  computed_at: Date;
}

/** The period's ranking from just after rank `afterRank`, best first; `limit` rows at most. */
export async function trendingVideos(
  db: DbOrTx,
  period: Period,
  opts: { limit: number; afterRank?: number },
): Promise<TrendingVideoRow[]> {
  const { rows } = await sql<TrendingVideoRow>`
    select ${summaryColumns}, t.rank, t.score, t.computed_at
    from trending_videos t
    join videos v on v.id = t.video_id
    left join video_stats s on s.video_id = v.id
    where t.period = ${period} and t.rank > ${opts.afterRank ?? 0} and ${listable('v')}
    order by t.rank
    limit ${opts.limit}`.execute(db);
  return rows;
}

/**
 * The most viewed videos anyone may find, for when the ranking has fewer than asked (before the first
 * recomputation, or a quiet instance). Walks video_stats_views_idx and stops at `limit`.
 */
export async function mostViewedVideos(db: DbOrTx, limit: number, skip: string[]): Promise<SummaryRow[]> {
  const { rows } = await sql<SummaryRow>`
    select ${summaryColumns}
    from video_stats s
    join videos v on v.id = s.video_id
    where ${listable('v')} and v.id <> all(${skip}::uuid[])
    order by s.views_total desc, s.video_id
    limit ${limit}`.execute(db);
  return rows;
}

export interface TrendingTagRow {
  tag: string;
  name: string | null;
  rank: number;
  score: number;
  videos: number;
  computed_at: Date;
}

/** The period's tags, best first; a curated tag (discovery's `tags`) adds its name. */
export async function trendingTags(db: DbOrTx, period: Period, limit: number): Promise<TrendingTagRow[]> {
  const { rows } = await sql<TrendingTagRow>`
    select t.tag, g.name, t.rank, t.score, t.videos, t.computed_at
    from trending_tags t
    left join tags g on g.slug = t.tag
    where t.period = ${period}
    order by t.rank
    limit ${limit}`.execute(db);
  return rows;
}

/** Fresh planner statistics for the ranking tables, right after a recomputation replaced them. */
export async function analyzeRankings(db: DbOrTx): Promise<void> {
  await sql`analyze trending_videos, trending_tags`.execute(db);
}
