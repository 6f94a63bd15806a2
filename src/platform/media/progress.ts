// Parses the key=value blocks that `ffmpeg -progress` writes; each block ends with `progress=...`.

export interface ProgressUpdate {
  outTimeS: number;
  frame: number;
  speed: number | null;
  done: boolean;
}

export class ProgressParser {
  private block = new Map<string, string>();
  private rest = '';

  /** Feeds output; answers the blocks completed by it. */
  push(chunk: string): ProgressUpdate[] {
    const updates: ProgressUpdate[] = [];
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      this.block.set(key, value);
      if (key === 'progress') {
        updates.push(this.toUpdate(value === 'end'));
        this.block = new Map();
      }
    }
    return updates;
  }

  private toUpdate(done: boolean): ProgressUpdate {
    // out_time_us is the accurate field; out_time_ms is also microseconds (a long-standing ffmpeg quirk).
    const us = Number(this.block.get('out_time_us') ?? this.block.get('out_time_ms') ?? 0);
    const speed = Number.parseFloat(this.block.get('speed') ?? '');
    return {
      outTimeS: Number.isFinite(us) && us > 0 ? us / 1e6 : 0,
      frame: Number(this.block.get('frame') ?? 0) || 0,
      speed: Number.isFinite(speed) ? speed : null,
      done,
    };
  }
}

/** Percent of the source encoded, 0-100, never going past 99 before the end. */
export function percentOf(update: ProgressUpdate, durationS: number): number {
  if (update.done) return 100;
  return percentAt(update.outTimeS, durationS);
}

/** Percent of the source done once `seconds` of it are, 0-99: 100 is only said at the end. */
export function percentAt(seconds: number, durationS: number): number {
  if (durationS <= 0) return 0;
  return Math.min(99, Math.max(0, Math.floor((seconds / durationS) * 100)));
}
