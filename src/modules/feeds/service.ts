import type { Db } from '../../platform/db/database.ts';
import type { PreparedPool } from '../../platform/db/prepared-pool.ts';
import { toSummary, type VideoSummary } from '../discovery/index.ts';
import type { TrendingService } from '../trending/index.ts';
import type { ViewingService } from '../viewing/index.ts';
import { CandidateCache, type Candidates } from './candidates.ts';
import { mixRecommendations, type Reason } from './mix.ts';
import {
  type FeedRow,
  followedVideos,
  INTEREST_TAGS,
  type Reads,
  similarVideoIds,
  stillRecommendable,
} from './repo.ts';

export type RecommendedVideo = VideoSummary & { reason: Reason };

/** A followed account's videos among the following candidates: a few each, so one busy channel cannot fill them. */
const PER_FOLLOWED_OWNER = 3;

export class FeedsService {
  private readonly reads: Reads;
  private readonly candidates: CandidateCache;

  constructor(
    db: Db,
    pool: PreparedPool,
    private readonly trending: TrendingService,
    private readonly viewing: ViewingService,
    candidatesTtlMs: number,
  ) {
    this.reads = { db, pool };
    this.candidates = new CandidateCache(candidatesTtlMs);
  }

  /** `limit + 1` rows of the viewer's feed, so the caller can tell whether a next page exists. */
  feed(userId: string, limit: number, after?: [string, string]): Promise<FeedRow[]> {
    return followedVideos(this.reads, userId, { limit: limit + 1, after });
  }

  /**
   * Recommendations for a viewer (`null`: anonymous, who gets popular videos only). Never what the
   * viewer watched, nor their own videos; each with the reason it was picked. Candidates may come from
   * this node's memory (RECOMMENDATIONS_CACHE_TTL_MS); whether each may still be shown is checked now.
   */
  async recommend(userId: string | null, limit: number): Promise<RecommendedVideo[]> {
    const candidates = await this.candidates.get(`${userId ?? '-'}:${limit}`, () => this.find(userId, limit));
    const ids = [...new Set([...candidates.following, ...candidates.similar, ...candidates.popular])];
    const rows = await stillRecommendable(this.reads, userId, ids);
    const shown = new Map(rows.map((r) => [r.id, toSummary(r)]));
    const pick = (list: string[]) => list.flatMap((id) => shown.get(id) ?? []);
    return mixRecommendations(limit, {
      following: pick(candidates.following),
      similar: pick(candidates.similar),
      popular: pick(candidates.popular),
    });
  }

  /**
   * Each source offers up to `limit`, more than its share, to cover another's shortfall and what the
   * check at answer time leaves out (watched, own, no longer listable); popular, which is the same for
   * everyone, offers more, as it alone fills what the others cannot.
   */
  private async find(userId: string | null, limit: number): Promise<Candidates> {
    const popular = this.trending.popular(limit * 2).then((list) => list.map((v) => v.id));
    if (!userId) return { following: [], similar: [], popular: await popular };
    const [following, similar] = await Promise.all([
      followedVideos(this.reads, userId, { limit, perOwner: PER_FOLLOWED_OWNER }),
      this.similar(userId, limit),
    ]);
    return { following: following.map((v) => v.id), similar, popular: await popular };
  }

  /** Videos sharing the viewer's interest tags (the tags of what they liked and watched lately). */
  private async similar(userId: string, limit: number): Promise<string[]> {
    const interests = await this.viewing.interestTags(userId, INTEREST_TAGS);
    return similarVideoIds(
      this.reads,
      userId,
      interests.map((i) => i.tag),
      limit,
    );
  }
}
