import type { Db } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { toSummary, type VideoSummary } from '../discovery/index.ts';
import { recomputePeriod } from './recompute.ts';
import {
  analyzeRankings,
  mostViewedVideos,
  type TrendingTagRow,
  type TrendingVideoRow,
  trendingTags,
  trendingVideos,
} from './repo.ts';
import { PERIODS, type Period } from './score.ts';

export interface TrendingVideo extends VideoSummary {
  rank: number;
  score: number;
}

export class TrendingService {
  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  /** Every period, each in a transaction of its own: a failed one leaves the others' new rankings. */
  async recompute(): Promise<Record<Period, { videos: number; tags: number; ms: number }>> {
    const out = {} as Record<Period, { videos: number; tags: number; ms: number }>;
    for (const period of PERIODS) {
      const started = performance.now();
      const written = await this.db.transaction().execute((tx) => recomputePeriod(tx, period));
      out[period] = { ...written, ms: Math.round(performance.now() - started) };
    }
    // The rankings were just replaced whole: without fresh statistics the planner takes the new rows for
    // a handful and reads every ranked video before sorting, instead of walking the rank index.
    await analyzeRankings(this.db);
    this.log.info({ trending: out }, 'trending recomputed');
    return out;
  }

  /** `limit + 1` rows from just after `afterRank`, so the caller can tell whether a next page exists. */
  videos(period: Period, limit: number, afterRank?: number): Promise<TrendingVideoRow[]> {
    return trendingVideos(this.db, period, { limit: limit + 1, afterRank });
  }

  tags(period: Period, limit: number): Promise<TrendingTagRow[]> {
    return trendingTags(this.db, period, limit);
  }

  /**
   * Popular videos for recommendations: the period's ranking, then the most viewed videos when it holds
   * fewer than `limit` that may be listed (before the first recomputation, or on a quiet instance).
   */
  async popular(limit: number, period: Period = 'weekly'): Promise<VideoSummary[]> {
    const ranked = (await trendingVideos(this.db, period, { limit })).map(toSummary);
    if (ranked.length >= limit) return ranked;
    const more = await mostViewedVideos(
      this.db,
      limit - ranked.length,
      ranked.map((v) => v.id),
    );
    return [...ranked, ...more.map(toSummary)];
  }
}

export function toTrendingVideo(r: TrendingVideoRow): TrendingVideo {
  return { ...toSummary(r), rank: r.rank, score: r.score };
}
