// Channel handles: lower case letters, digits and underscores, 3 to 30 of them; unique ignoring case.
import { randomBytes } from 'node:crypto';

export const HANDLE = /^[a-z0-9_]{3,30}$/;
const MAX = 30;
const MIN = 3;

/** The handle a username suggests: lower case, other characters as `_`, padded and cut to fit. */
export function handleFrom(username: string): string {
  const base = username
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, MAX);
  return base.length >= MIN ? base : base.padEnd(MIN, '_');
}

/**
 * Handles to try, in order, when `base` may be taken: itself, then numbered, then random suffixes (so
 * registration ends whatever handles exist).
 */
export function* handleCandidates(base: string): Generator<string> {
  yield base;
  for (let n = 2; n <= 9; n++) yield withSuffix(base, `_${n}`);
  for (;;) yield withSuffix(base, `_${randomBytes(4).toString('hex')}`);
}

function withSuffix(base: string, suffix: string): string {
  return `${base.slice(0, MAX - suffix.length)}${suffix}`;
}
