// The in-process cache of recommendation candidates: per key (`tag:<slug>`, or `pool` for viewers without
// tags) the listed, everyone-may-watch videos, as summaries. Only tier-0 videos are ever cached.
// Entries go stale after a short TTL and are then refreshed in the background while still served (the
// TTL only backs up invalidation); a change to a video drops the entries holding it at once.
import type { RedisLayer } from './redis-layer.ts';
import type { VideoSummary } from './summary.ts';

export const FRESH_MS = 30_000;
/** Entries kept; the oldest go first (tags nobody prefers stop being asked for). */
const MAX_ENTRIES = 5000;
const REDIS_SECOND_DROP_MS = 2000;

interface Entry {
  items: VideoSummary[];
  freshUntil: number;
}

export type Loader = () => Promise<VideoSummary[]>;

export class RecommendationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<VideoSummary[]>>();
  /** Moves on every drop: a load that began before one does not store what it read. */
  private generation = 0;
  hits = 0;
  misses = 0;

  private redis?: RedisLayer;

  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  /** The shared layer under this one (REDIS_URL). */
  attach(redis: RedisLayer | undefined): void {
    this.redis = redis;
  }

  async get(key: string, load: Loader): Promise<VideoSummary[]> {
    const entry = this.entries.get(key);
    if (entry) {
      this.hits++;
      if (entry.freshUntil <= Date.now() && !this.loading.has(key)) {
        this.fill(key, load, false).catch(this.onError);
      }
      return entry.items;
    }
    this.misses++;
    return this.loading.get(key) ?? this.fill(key, load, true);
  }

  private fill(key: string, load: Loader, useRedis: boolean): Promise<VideoSummary[]> {
    const generation = this.generation;
    const promise = (async () => {
      let items = useRedis ? await this.redis?.getList(key) : undefined;
      if (!items) {
        items = await load();
        if (generation === this.generation) void this.redis?.setList(key, items);
      }
      if (generation === this.generation) this.store(key, items);
      return items;
    })().finally(() => this.loading.delete(key));
    this.loading.set(key, promise);
    return promise;
  }

  private store(key: string, items: VideoSummary[]): void {
    this.entries.delete(key);
    this.entries.set(key, { items, freshUntil: Date.now() + FRESH_MS });
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /**
   * A video changed: drops the lists of its current tags, every list holding it, and the random pool
   * (a newly listed video may join it); in Redis first, then here, so that this node never reads back
   * from Redis what it has just dropped.
   */
  async dropVideo(videoId: string, tags: string[]): Promise<void> {
    // Loads under way may have read before the change: they store nothing.
    this.generation++;
    const keys = new Set(['pool', ...tags.map((t) => `tag:${t}`)]);
    for (const [key, entry] of this.entries) {
      if (entry.items.some((v) => v.id === videoId)) keys.add(key);
    }
    const redis = this.redis;
    if (redis) {
      for (const key of await redis.drop(videoId, [...keys])) keys.add(key);
      // Another node may have been writing what it read before the change: drop again once that is done.
      setTimeout(() => void redis.drop(videoId, [...keys]), REDIS_SECOND_DROP_MS).unref();
    }
    this.generation++;
    for (const key of keys) this.entries.delete(key);
    this.loading.clear();
  }

  /** Everything may have changed (an owner hidden or restored). */
  async dropAll(): Promise<void> {
    this.generation++;
    await this.redis?.dropAll();
    this.dropLocal();
  }

  /** Drops this node's entries only (its notifications may have been missed; Redis was kept up). */
  dropLocal(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }
}
