// HTTP Range requests (RFC 9110 §14): one range of bytes, in any of its three forms.
import type { ByteRange } from './object-store.ts';

const SINGLE_RANGE = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i;

/**
 * Resolves a Range header against an object's size: null to send the whole object, 'unsatisfiable'
 * for a 416. Several ranges, other units and invalid syntax answer null: RFC 9110 §14.2 lets a server
 * ignore Range, and a player never needs a multipart answer.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  const match = header ? SINGLE_RANGE.exec(header) : null;
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    // bytes=-n: the last n bytes
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null; // invalid syntax, not unsatisfiable
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
