// Where an item sits in a collection: `position` is a number, and items sort by (position, video_id).
// A move or an insert takes the midpoint of its new neighbours, so it rewrites one row; when two
// neighbours are so close that no number fits between them, the caller numbers the whole list afresh.

/** The gap between neighbours when items are added at the end or numbered afresh. */
export const STEP = 1024;

/**
 * The position that puts an item at `index` (0-based, clamped) among `others`, the positions of the
 * other items in ascending order; null when no number fits between the two neighbours.
 */
export function slotAt(others: readonly number[], index: number): number | null {
  const i = Math.max(0, Math.min(index, others.length));
  const before = others[i - 1];
  const after = others[i];
  if (before === undefined && after === undefined) return STEP;
  if (before === undefined) return (after as number) - STEP;
  if (after === undefined) return before + STEP;
  const mid = before + (after - before) / 2;
  return mid > before && mid < after ? mid : null;
}

/** Positions for a list numbered afresh, in its order. */
export function renumbered(count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + 1) * STEP);
}

/** Where a moved item goes: right before or after another item, or at an index. */
export type Placement = { before: string } | { after: string } | { index: number };

/**
 * The index among `others` (the other items' ids, in order) that a placement names; -1 when it names
 * an item that is not there.
 */
export function indexOf(others: readonly string[], placement: Placement): number {
  if ('index' in placement) return placement.index;
  const at = others.indexOf('before' in placement ? placement.before : placement.after);
  if (at < 0) return -1;
  return 'before' in placement ? at : at + 1;
}
