// When a viewer has finished a video: at 95 % of it, or within the last 10 s of one long enough that its
// last 10 s are credits rather than half of it (over 20 s).

export const COMPLETE_RATIO = 0.95;
export const COMPLETE_TAIL_S = 10;

/**
 * Where the viewer is (clamped to the video's length: players report a little past the end) and whether
 * they finished; without a known length, never finished.
 */
export function progressOf(
  positionS: number,
  durationS: number | null,
): { progress_s: number; completed: boolean } {
  if (durationS === null || !(durationS > 0)) return { progress_s: positionS, completed: false };
  const at = Math.min(positionS, durationS);
  const nearEnd = durationS > 2 * COMPLETE_TAIL_S && durationS - at <= COMPLETE_TAIL_S;
  return { progress_s: at, completed: at >= COMPLETE_RATIO * durationS || nearEnd };
}
