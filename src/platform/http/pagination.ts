// Keyset pagination: the cursor is an opaque base64url of the last row's sort key.
import { z } from 'zod';
import { DomainError } from '../errors/domain-error.ts';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
});

/**
 * A time in a cursor, as `to_char(… 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` writes it. An ISO date-time is not
 * enough: year 0000 is well-formed ISO 8601 but PostgreSQL has no year 0 and fails the query, so a forged
 * cursor would answer 500 instead of 400.
 */
export const cursorTime = z.iso
  .datetime()
  .refine((s) => Number(s.slice(0, 4)) >= 1, 'not a time of this list');

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends unknown[]>(cursor: string, shape: z.ZodType<T>): T {
  try {
    return shape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new DomainError('VALIDATION_FAILED', 'The cursor is not valid', {
      fields: [{ field: 'cursor', message: 'not a cursor from this list' }],
    });
  }
}

/** Turns `limit + 1` fetched rows into a page and the cursor of the next one. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => unknown[]) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
