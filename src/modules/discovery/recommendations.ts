// Recommended videos, per the seed: a random subset of 1..N of the viewer's tags, videos having any of
// them, in random order; viewers without tags (or whose tags match nothing) get random public videos.
// Served from the cache (see recommendation-cache.ts): a request touches PostgreSQL only on a miss.
import type { Db } from '../../platform/db/database.ts';
import * as catalog from './catalog-repo.ts';
import type { RecommendationCache } from './recommendation-cache.ts';
import type { VideoSummary } from './summary.ts';
import type { TagsService, Viewer } from './tags-service.ts';

export class Recommendations {
  constructor(
    private readonly db: Db,
    private readonly tags: TagsService,
    readonly cache: RecommendationCache,
  ) {}

  async recommend(viewer: Viewer | undefined, limit: number): Promise<VideoSummary[]> {
    const slugs = viewer ? await this.tags.preferredSlugs(viewer) : [];
    if (slugs.length) {
      const picked = shuffled(slugs).slice(0, 1 + Math.floor(Math.random() * slugs.length));
      const lists = await Promise.all(
        picked.map((slug) => this.cache.get(`tag:${slug}`, () => catalog.publicVideosTagged(this.db, slug))),
      );
      const union = new Map<string, VideoSummary>();
      for (const list of lists) for (const v of list) union.set(v.id, v);
      if (union.size) return sample([...union.values()], limit);
    }
    const pool = await this.cache.get('pool', () => catalog.randomPublicVideos(this.db));
    return sample(pool, limit);
  }
}

function shuffled<T>(items: T[]): T[] {
  return sample(items, items.length);
}

/** `n` items in random order (a partial Fisher–Yates on a copy). */
function sample<T>(items: readonly T[], n: number): T[] {
  const copy = items.slice();
  const count = Math.min(n, copy.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, count);
}
