// Object keys are relative POSIX paths. The rules hold for every driver, so a key that works on the
// local folder also works on S3 and can never name a file outside the store's root.
import { ObjectKeyError } from './errors.ts';

/** S3's limit (in bytes; our keys are ASCII in practice). */
const MAX_KEY_LENGTH = 1024;

function check(key: string, allowTrailingSlash: boolean): string[] {
  if (typeof key !== 'string') throw new ObjectKeyError(String(key), 'not a string');
  if (key.length > MAX_KEY_LENGTH) throw new ObjectKeyError(key, `longer than ${MAX_KEY_LENGTH}`);
  if (key.startsWith('/')) throw new ObjectKeyError(key, 'absolute path');
  if (key.includes('\\')) throw new ObjectKeyError(key, 'backslash');
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new ObjectKeyError(key, 'control character');
  }
  const segments = key.split('/');
  if (allowTrailingSlash && segments.length > 1 && segments.at(-1) === '') segments.pop();
  for (const segment of segments) {
    if (segment === '') throw new ObjectKeyError(key, 'empty path segment');
    if (segment === '.' || segment === '..') throw new ObjectKeyError(key, `"${segment}" segment`);
  }
  return segments;
}

/** Answers the key's path segments; throws ObjectKeyError for a key that is not allowed. */
export function checkKey(key: string): string[] {
  if (key === '') throw new ObjectKeyError(key, 'empty');
  return check(key, false);
}

/** A prefix is matched as a string (as S3 does): `videos/a` covers `videos/a/…` and `videos/ab/…`. */
export function checkPrefix(prefix: string): void {
  if (prefix !== '') check(prefix, true);
}
