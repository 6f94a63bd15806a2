// The search query: full text over title, description and tags (the stored search_vector, 'simple'
// configuration, each word also as a prefix), plus trigram matching on titles: ILIKE '%q%' (parts of
// words, Chinese/Japanese titles of any length, through the trigram index) and, when that finds nothing,
// word similarity (near spellings). Only listable videos.
import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { listable } from '../videos/index.ts';
import type { SearchPool } from './search-pool.ts';
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
  /** Match titles by near spelling only (when the words matched nothing). */
  fuzzy?: boolean;
  /** The last row of the previous page: its sort key (as PostgreSQL wrote it) and id. */
  after?: { key: string; id: string };
}

/**
 * Words of the query as a prefix tsquery ("Gui tar" → 'gui:* & tar:*'); null when it has none. Words are
 * letters and digits only, lower case, as the 'simple' configuration stores them, so the text is a valid
 * tsquery as it is: sent as a tsquery parameter, it is parsed once, not once per row of a prepared plan.
 */
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

/** Runs on `pool` (see search-pool.ts); `db` only compiles. */
export async function search(
  db: DbOrTx,
  pool: SearchPool,
  query: SearchQuery,
): Promise<(VideoSummary & { key: string })[]> {
  const where: RawBuilder<unknown>[] = [listable('v')];
  let rank: RawBuilder<unknown> = sql`0::float8`;
  if (query.q && query.fuzzy) {
    // Near spellings, asked for only when nothing matched: word similarity is costly on many rows.
    where.push(sql`${query.q} <% v.title`);
    rank = sql`word_similarity(${query.q}, v.title)::float8`;
  } else if (query.q) {
    const tsq = prefixQuery(query.q);
    const like = likePattern(query.q);
    where.push(
      tsq ? sql`(v.search_vector @@ ${tsq}::tsquery or v.title ilike ${like})` : sql`v.title ilike ${like}`,
    );
    // Title words weigh most, then tags, then description; a title holding the text as typed, a little more.
    const titleBonus = sql`case when v.title ilike ${like} then 0.1 else 0 end`;
    rank = tsq
      ? sql`(ts_rank(v.search_vector, ${tsq}::tsquery)::float8 + ${titleBonus})`
      : sql`(${titleBonus})::float8`;
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
    views: [sql`coalesce(vs.views_total, 0)`, sql`int8`],
  }[query.sort];
  if (query.after) {
    where.push(sql`(${key}, v.id) < (cast(${query.after.key} as ${type}), ${query.after.id}::uuid)`);
  }
  // Ranks ids alone, then reads the summaries of one page only.
  const stats = query.sort === 'views' ? sql`left join video_stats vs on vs.video_id = v.id` : sql``;
  const rows = await pool.query(
    sql<SummaryRow & { key: string }>`select ${summaryColumns}, p.sort_key::text as key
    from (
      select v.id, ${key} as sort_key from videos v ${stats}
      where ${sql.join(where, sql` and `)}
      order by sort_key desc, v.id desc
      limit ${query.limit}
    ) p
    join videos v on v.id = p.id
    left join video_stats s on s.video_id = v.id
    order by p.sort_key desc, p.id desc`.compile(db),
  );
  return rows.map((r) => ({ ...toSummary(r), key: r.key }));
}
