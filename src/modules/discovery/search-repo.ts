// The search query: full text over title, description and tags (the stored search_vector, 'simple'
// configuration, each word also as a prefix), plus trigram matching on titles: ILIKE '%q%' (parts of
// words, Chinese/Japanese titles of any length) and word similarity (near spellings). Only listable videos.
import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { listable } from '../videos/index.ts';
import { type SummaryRow, summaryColumns, toSummary, type VideoSummary } from './summary.ts';

export type SearchSort = 'relevance' | 'newest' | 'views';

export interface SearchFilters {
  q?: string;
  category?: string;
  minDuration?: number;
  maxDuration?: number;
  /** Inclusive lower bound of the upload time. */
  uploadedFrom?: Date;
  /** Exclusive upper bound of the upload time. */
  uploadedBefore?: Date;
  accessTier?: number;
}

export interface SearchQuery extends SearchFilters {
  sort: SearchSort;
  limit: number;
  /** The last row of the previous page: its sort key (as PostgreSQL wrote it) and id. */
  after?: { key: string; id: string };
}

/** Words of the query as a prefix tsquery ("gui tar" → 'gui:* & tar:*'); null when it has none. */
export function prefixQuery(q: string): string | null {
  const words = q
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 16);
  return words.length ? words.map((w) => `${w}:*`).join(' & ') : null;
}

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function search(db: DbOrTx, query: SearchQuery): Promise<(VideoSummary & { key: string })[]> {
  const where: RawBuilder<unknown>[] = [listable('v')];
  let rank: RawBuilder<unknown> = sql`0::float8`;
  if (query.q) {
    const tsq = prefixQuery(query.q);
    const text = sql`v.title ilike ${likePattern(query.q)} or ${query.q} <% v.title`;
    where.push(tsq ? sql`(v.search_vector @@ to_tsquery('simple', ${tsq}) or ${text})` : sql`(${text})`);
    rank = tsq
      ? sql`(ts_rank(v.search_vector, to_tsquery('simple', ${tsq}))::float8
          + word_similarity(${query.q}, v.title)::float8)`
      : sql`word_similarity(${query.q}, v.title)::float8`;
  }
  if (query.category) where.push(sql`v.category = ${query.category}`);
  const duration = sql`(v.media_info ->> 'durationS')::float8`;
  if (query.minDuration !== undefined) where.push(sql`${duration} >= ${query.minDuration}`);
  if (query.maxDuration !== undefined) where.push(sql`${duration} <= ${query.maxDuration}`);
  if (query.uploadedFrom) where.push(sql`v.created_at >= ${query.uploadedFrom}`);
  if (query.uploadedBefore) where.push(sql`v.created_at < ${query.uploadedBefore}`);
  if (query.accessTier !== undefined) where.push(sql`v.access_tier = ${query.accessTier}`);

  const [key, type] = {
    relevance: [rank, sql`float8`],
    newest: [sql`v.created_at`, sql`timestamptz`],
    views: [sql`coalesce(s.views_total, 0)`, sql`int8`],
  }[query.sort];
  const after = query.after
    ? sql`where (r.sort_key, r.id) < (cast(${query.after.key} as ${type}), ${query.after.id}::uuid)`
    : sql``;
  const { rows } = await sql<SummaryRow & { key: string }>`select r.*, r.sort_key::text as key from (
      select ${summaryColumns}, ${key} as sort_key
      from videos v left join video_stats s on s.video_id = v.id
      where ${sql.join(where, sql` and `)}
    ) r
    ${after}
    order by r.sort_key desc, r.id desc
    limit ${query.limit}`.execute(db);
  return rows.map((r) => ({ ...toSummary(r), key: r.key }));
}
