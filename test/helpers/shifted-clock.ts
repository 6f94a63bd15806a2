// Moves this process's wall clock (Date, Date.now) by a fixed offset while timers keep real time: how a
// test brings the next minute of a crontab within seconds. Every Date made meanwhile is a real Date.

/** Shifts the clock by `offsetMs`; answers the function that puts it back. */
export function shiftClock(offsetMs: number): () => void {
  const Real = globalThis.Date;
  function Shifted(this: unknown, ...args: unknown[]) {
    const now = new Real(Real.now() + offsetMs);
    if (!new.target) return now.toString();
    return args.length === 0 ? now : new Real(...(args as [number]));
  }
  Shifted.prototype = Real.prototype;
  Shifted.now = () => Real.now() + offsetMs;
  Shifted.parse = Real.parse;
  Shifted.UTC = Real.UTC;
  globalThis.Date = Shifted as unknown as DateConstructor;
  return () => {
    globalThis.Date = Real;
  };
}
