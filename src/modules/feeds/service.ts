import type { Db } from '../../platform/db/database.ts';
import { toSummary, type VideoSummary } from '../discovery/index.ts';
import type { TrendingService } from '../trending/index.ts';
import type { ViewingService } from '../viewing/index.ts';
import { mixRecommendations, type Reason } from './mix.ts';
import { type FeedRow, followedVideos, INTEREST_TAGS, similarVideos, watchedAmong } from './repo.ts';

export type RecommendedVideo = VideoSummary & { reason: Reason };

export class FeedsService {
  constructor(
    private readonly db: Db,
    private readonly trending: TrendingService,
    private readonly viewing: ViewingService,
  ) {}

  /** `limit + 1` rows of the viewer's feed, so the caller can tell whether a next page exists. */
  feed(userId: string, limit: number, after?: [string, string]): Promise<FeedRow[]> {
    return followedVideos(this.db, userId, { limit: limit + 1, after });
  }

  /**
   * Recommendations for a viewer (`null`: anonymous, who gets popular videos only). Never what the
   * viewer watched, nor their own videos; each with the reason it was picked.
   */
  async recommend(userId: string | null, limit: number): Promise<RecommendedVideo[]> {
    if (!userId) {
      const popular = await this.trending.popular(limit);
      return popular.map((v) => ({ ...v, reason: 'popular' as const }));
    }
    // Each source offers enough to cover another's shortfall; the popular list is read without the
    // viewer in mind, so it offers more and is filtered here.
    const [following, similar, popular] = await Promise.all([
      followedVideos(this.db, userId, { limit, excludeWatched: true }),
      this.similar(userId, limit),
      this.trending.popular(limit * 2),
    ]);
    const watched = await watchedAmong(
      this.db,
      userId,
      popular.map((v) => v.id),
    );
    return mixRecommendations(limit, {
      following: following.map(toSummary),
      similar: similar.map(toSummary),
      popular: popular.filter((v) => !watched.has(v.id) && v.owner_id !== userId),
    });
  }

  /** Videos sharing the viewer's interest tags (the tags of what they liked and watched lately). */
  private async similar(userId: string, limit: number) {
    const interests = await this.viewing.interestTags(userId, INTEREST_TAGS);
    return similarVideos(
      this.db,
      userId,
      interests.map((i) => i.tag),
      limit,
    );
  }
}
