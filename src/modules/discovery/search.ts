// Search: turns the query string into a query (checking what zod cannot: ranges, the sort, the cursor)
// and the rows into a page with an opaque cursor (sort, sort key, id).
import { z } from 'zod';
import type { Db } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { decodeCursor, encodeCursor } from '../../platform/http/pagination.ts';
import type { searchQuery } from './schema.ts';
import type { SearchPool } from './search-pool.ts';
import { type SearchSort, search } from './search-repo.ts';
import type { VideoSummary } from './summary.ts';

type Params = z.infer<typeof searchQuery>;

const invalid = (field: string, message: string) =>
  new DomainError('VALIDATION_FAILED', message, { fields: [{ field, message }] });

const DAY_MS = 86_400_000;
const isDate = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v);

export interface SearchPage {
  items: VideoSummary[];
  next_cursor: string | null;
}

/** The key of a search in the cache: its parameters in a fixed order. */
export function searchKey(p: Params): string {
  return JSON.stringify(Object.entries(p).sort(([a], [b]) => a.localeCompare(b)));
}

export async function searchVideos(db: Db, pool: SearchPool, p: Params): Promise<SearchPage> {
  const sort: SearchSort = p.sort ?? (p.q ? 'relevance' : 'newest');
  if (sort === 'relevance' && !p.q) throw invalid('sort', 'relevance needs q');
  if (p.min_duration !== undefined && p.max_duration !== undefined && p.min_duration > p.max_duration) {
    throw invalid('min_duration', 'must not be above max_duration');
  }
  const from = p.uploaded_from ? new Date(p.uploaded_from) : undefined;
  const before = p.uploaded_to
    ? new Date(new Date(p.uploaded_to).getTime() + (isDate(p.uploaded_to) ? DAY_MS : 1))
    : undefined;
  if (from && before && from >= before) throw invalid('uploaded_from', 'must be before uploaded_to');
  let after: { key: string; id: string } | undefined;
  let fuzzy = false;
  if (p.cursor) {
    const [cursorSort, key, id, mode] = decodeCursor(
      p.cursor,
      z.tuple([z.string(), z.string(), z.uuid(), z.enum(['words', 'near'])]),
    );
    if (cursorSort !== sort) throw invalid('cursor', 'the cursor is of another sort');
    after = { key, id };
    fuzzy = mode === 'near';
  }
  const query = {
    q: p.q,
    category: p.category,
    minDuration: p.min_duration,
    maxDuration: p.max_duration,
    uploadedFrom: from,
    uploadedBefore: before,
    accessTier: p.access_tier,
    sort,
    limit: p.limit + 1,
    after,
  };
  let rows = await search(db, pool, { ...query, fuzzy });
  if (!rows.length && !fuzzy && !after && p.q) {
    // Nothing matched the words: titles of a near spelling, then.
    fuzzy = true;
    rows = await search(db, pool, { ...query, fuzzy });
  }
  const page = rows.slice(0, p.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ key: _key, ...summary }) => summary),
    next_cursor:
      rows.length > p.limit && last
        ? encodeCursor([sort, last.key, last.id, fuzzy ? 'near' : 'words'])
        : null,
  };
}
