// Answers to searches asked again, per node: a hot query costs one SQL run per change of the catalog
// rather than one per request. Any catalog change empties it on every node (the same notification that
// drops recommendations), so a search never shows a video that left the lists for longer than the relay
// takes to tell (tens of milliseconds); view counts and the views order may lag by up to the TTL.
export class SearchCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    /** 0: no cache. */
    private readonly ttlMs: number,
    private readonly maxEntries = 5000,
  ) {}

  /**
   * The answer for `key`, from the cache or from `load`. Concurrent misses of one key share one load;
   * an entry is stored before the load starts, so a `clear()` meanwhile removes it and later requests
   * load again.
   */
  async get(key: string, load: () => Promise<T>): Promise<T> {
    if (this.ttlMs === 0) return load();
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) {
      // Most recently used last, so eviction takes the coldest.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const value = load();
    const entry = { at: now, value };
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    try {
      return await value;
    } catch (err) {
      // A failure is not remembered.
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
