// Which channel each account has, for GET /users/me: that route answers from memory (the session
// cache) at ~20k requests/s, and a query per request would halve that. An owner's channel changes only
// when it is deleted or made again; those changes reach every node by NOTIFY, and a short lifetime
// bounds staleness should a notification be missed.
export class OwnerChannels {
  private readonly entries = new Map<string, { channelId: string | null; until: number }>();
  /** Moves on every change: a look-up that started before one does not cache its answer. */
  private generation = 0;

  constructor(
    private readonly load: (ownerId: string) => Promise<string | null>,
    private readonly maxEntries = 50_000,
    private readonly ttlMs = 60_000,
  ) {}

  async get(ownerId: string): Promise<string | null> {
    const now = Date.now();
    const hit = this.entries.get(ownerId);
    if (hit && hit.until > now) return hit.channelId;
    const generation = this.generation;
    const channelId = await this.load(ownerId);
    if (generation === this.generation) {
      this.entries.delete(ownerId);
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(ownerId, { channelId, until: now + this.ttlMs });
    }
    return channelId;
  }

  forget(ownerId: string): void {
    this.generation++;
    this.entries.delete(ownerId);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
