// When a failed delivery is tried again: about 30 s, 2 min, 10 min, 1 h, 2 h, then every 4 h (with the
// default base), until 24 h after the event.

/** Multiples of the base delay, by the number of attempts made so far (the last one repeats). */
const STEPS = [1, 4, 20, 120, 240, 480];

/** The delay before the next attempt, after `attempts` attempts. */
export function retryDelayMs(attempts: number, baseMs: number): number {
  return baseMs * STEPS[Math.min(Math.max(attempts, 1), STEPS.length) - 1]!;
}

/** When to try again, or null once the next try would fall after `retryUntil`. */
export function nextAttemptAt(
  attempts: number,
  baseMs: number,
  retryUntil: Date,
  now = new Date(),
): Date | null {
  const at = new Date(now.getTime() + retryDelayMs(attempts, baseMs));
  return at > retryUntil ? null : at;
}
