// Recommendation candidates per viewer, kept in this node's memory for a short while: finding them costs
// several queries (followed accounts' newest, videos of similar tags, the trending list), while checking
// them again costs one (stillRecommendable, on every answer). Only ids are kept, never what they show.
import type { Reason } from './mix.ts';

export type Candidates = Record<Reason, string[]>;

export class CandidateCache {
  private readonly entries = new Map<string, { at: number; candidates: Promise<Candidates> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The viewer's candidates, found by `find` when missing or older than the TTL (0: always found). */
  get(key: string, find: () => Promise<Candidates>): Promise<Candidates> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.candidates;
    const candidates = find();
    if (this.ttlMs > 0) {
      this.entries.delete(key);
      // Map order is insertion order: the first entry is the oldest.
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { at: now, candidates });
      // A failed search is not kept.
      candidates.catch(() => this.entries.delete(key));
    }
    return candidates;
  }
}
