// Views waiting to be written, on one node. A viewer's repeats are dropped here before they cost a row
// (the same viewer posting again while the first is pending, or again after this node counted them);
// the database decides for good at the flush, so that the 24 h rule also holds across nodes and restarts.

/** One view as posted: whose (an HMAC, never the viewer itself), when, and whether a member's. */
export interface PendingView {
  videoId: string;
  viewerKey: Buffer;
  member: boolean;
  at: Date;
}

const DAY_MS = 86_400_000;

export class ViewBuffer {
  private pending = new Map<string, PendingView>();
  /** Views this node counted lately, oldest first: key → time counted (ms). */
  private recent = new Map<string, number>();

  constructor(
    /** Views held at most; beyond, new ones are refused (the database is away for long). */
    private readonly maxPending: number,
    /** Counted views remembered at most; the oldest are forgotten first (the database still knows). */
    private readonly maxRecent: number,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Holds a view; answers false when it is a known repeat or the buffer is full. */
  add(view: PendingView): boolean {
    const key = keyOf(view);
    const counted = this.recent.get(key);
    if (counted !== undefined) {
      if (view.at.getTime() - counted < DAY_MS) return false;
      this.recent.delete(key);
    }
    if (this.pending.has(key) || this.pending.size >= this.maxPending) return false;
    this.pending.set(key, view);
    return true;
  }

  /** Takes up to `max` views out, oldest first, for a flush. */
  take(max: number): PendingView[] {
    const taken: PendingView[] = [];
    for (const [key, view] of this.pending) {
      if (taken.length >= max) break;
      taken.push(view);
      this.pending.delete(key);
    }
    return taken;
  }

  /** Puts back the views of a flush that failed; a repeat posted meanwhile gives way to the earlier view. */
  restore(views: PendingView[]): void {
    for (const view of views) this.pending.set(keyOf(view), view);
  }

  /** Remembers views the database counted, so that their repeats within 24 h stop here. */
  remember(counted: Array<{ videoId: string; viewerKey: Buffer; at: Date }>): void {
    for (const view of counted) {
      const key = keyOf(view);
      this.recent.delete(key);
      this.recent.set(key, view.at.getTime());
    }
    for (const key of this.recent.keys()) {
      if (this.recent.size <= this.maxRecent) break;
      this.recent.delete(key);
    }
  }
}

function keyOf(view: { videoId: string; viewerKey: Buffer }): string {
  return `${view.videoId}:${view.viewerKey.toString('base64')}`;
}
