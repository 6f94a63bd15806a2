// The catalog's hottest reads on 100k videos and 1k tags, against a real Vireo (HTTP server + PostgreSQL):
// GET /api/v1/videos/recommended (served from the recommendation cache) and GET /api/v1/search (a hot
// query, answered from the search cache once per catalog change; and the same on a node without that
// cache, a query per request), each beside the same SQL query run bare on a pg pool at the same concurrency in the same
// run; and how long an unpublished video takes to leave recommendations. Each load is measured three
// times, interleaving Vireo and the bare query, and the medians are reported.
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { type App, startApp } from '../src/app.ts';
import type { SearchPool } from '../src/modules/discovery/search-pool.ts';
import { search } from '../src/modules/discovery/search-repo.ts';
import { CATEGORIES, videoUnpublished } from '../src/modules/videos/index.ts';
import type { Db } from '../src/platform/db/database.ts';
import { emit } from '../src/platform/events/emit.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { describe, type LoadResult, load, median } from './lib/load.ts';
import type { Benchmark, Metrics } from './lib/report.ts';
import { openScene, sceneConfig } from './lib/scene.ts';

const VIDEOS = 100_000;
const TAGS = 1_000;
const OWNERS = 1_000;
const CONNECTIONS = 16;
const LIMIT = 20;
// One word found in about 4 % of the catalog (the costly case: every match is ranked), and two words.
const SEARCH_WORD = 'river';
const SEARCH_WORDS = 'river guitar';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
if (!(SECONDS > 0)) throw new Error(`BENCH_SECONDS must be a positive number of seconds`);
const WARMUP_SECONDS = Math.min(2, SECONDS);
const REPEATS = 3;

// Titles are three words of these (about 1.5 % of titles hold any one word), some in Japanese/Chinese.
const WORDS = `river mountain guitar piano chess soccer recipe pasta travel tokyo night city morning
  sunset forest ocean camera drone coding python rust database lesson guide review unboxing vlog
  tutorial concert live cover remix beat drums violin jazz blues rock metal folk dance yoga running
  cycling hiking camping fishing garden kitchen bread coffee tea wine beer street market festival
  history science space planet galaxy robot engine car train plane bridge tower castle museum art
  painting drawing sketch comic anime movie trailer series episode podcast interview news weather
  storm snow rain summer winter spring autumn holiday family friends wedding party birthday game
  speedrun strategy puzzle racing shooter retro console keyboard mouse laptop phone tablet watch
  東京 大阪 料理 旅行 音楽 夜景 北京 上海 学习 游戏`
  .split(/\s+/)
  .filter(Boolean);

const statementIds = new Map<string, number>();
const statementId = (text: string) => {
  if (!statementIds.has(text)) statementIds.set(text, statementIds.size);
  return statementIds.get(text)!;
};

/** Bare queries at a fixed concurrency on a pg pool: the same numbers load() gives for HTTP. */
async function sqlLoad(
  pool: pg.Pool,
  query: () => { text: string; values: unknown[] },
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const q = query();
        const t0 = performance.now();
        // Prepared once per connection, as Vireo's search does.
        await pool.query({ name: `bench_${statementId(q.text)}`, text: q.text, values: q.values });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return {
    requests: sorted.length,
    perSecond: sorted.length / elapsed,
    p50Ms: pct(50),
    p99Ms: pct(99),
    failures: 0,
  };
}

async function run(progress: (line: string) => void): Promise<Metrics> {
  const scene = await openScene(progress, 'vireo-bench-catalog-');
  try {
    const config = sceneConfig(scene, { DB_POOL_MAX: String(CONNECTIONS) });
    const app = await startApp(config, { role: 'api', logger: createLogger('silent') });
    scene.defer(() => app.stop());
    const url = app.url!;
    // A second node without the search cache: what every search costs when it is not asked again.
    const uncachedApp = await startApp(
      { ...config, searchCacheTtlMs: 0 },
      { role: 'api', logger: createLogger('silent') },
    );
    scene.defer(() => uncachedApp.stop());
    const db = app.database.db;

    const seeded = performance.now();
    await seed(db);
    progress(
      `seeded ${VIDEOS} videos, ${TAGS} tags in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
    );

    // A guest who prefers five tags; each request picks 1..5 of them.
    const session = 'bench-guest-session-0001';
    const { rows: preferred } = await sql<{ id: string; slug: string }>`select id, slug from tags
      order by slug limit 5`.execute(db);
    const put = await fetch(`${url}/api/v1/tags/my`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: session, tag_ids: preferred.map((t) => t.id) }),
    });
    if (put.status !== 200) throw new Error(`PUT /api/v1/tags/my answered ${put.status}`);
    const slugs = preferred.map((t) => t.slug);

    // The planner setting of Vireo's search connections: the same plans.
    const bare = new pg.Pool({
      connectionString: scene.databaseUrl,
      max: CONNECTIONS,
      options: '-c random_page_cost=1.1',
    });
    scene.defer(() => bare.end());
    // The query a cache miss would make, done on every request: videos having any of 1..5 of the tags.
    const recommendedSql = () => {
      const picked = [...slugs].sort(() => Math.random() - 0.5).slice(0, 1 + Math.floor(Math.random() * 5));
      return sql`select v.id, v.owner_id, v.title, v.tags, v.category, v.language, v.access_tier,
          v.published_at, v.created_at, (v.media_info ->> 'durationS')::float8 as duration_s,
          coalesce(s.views_total, 0)::int8 as views_count
        from videos v left join video_stats s on s.video_id = v.id
        where v.tags && ${picked}::text[] and v.access_tier = 0
          and v.publication = 'published' and not v.hidden and v.visibility = 'public'
          and v.playback_version is not null
          and exists (select 1 from users o where o.id = v.owner_id and o.status = 'active')
        order by random() limit ${LIMIT}`.compile(db);
    };
    // Exactly what Vireo sends for the search below (captured from the repo's own query builder).
    const searchSql = await searchStatement(db, SEARCH_WORD);
    const searchWordsSql = await searchStatement(db, SEARCH_WORDS);

    const endpoints = {
      recommended: {
        http: {
          url: `${url}/api/v1/videos/recommended?session_id=${session}&limit=${LIMIT}`,
          connections: CONNECTIONS,
        },
        sql: () => {
          const c = recommendedSql();
          return { text: c.sql, values: [...c.parameters] };
        },
      },
      search: {
        http: { url: `${url}/api/v1/search?q=${SEARCH_WORD}&limit=${LIMIT}`, connections: CONNECTIONS },
        sql: () => searchSql,
      },
      search_uncached: {
        http: {
          url: `${uncachedApp.url}/api/v1/search?q=${SEARCH_WORD}&limit=${LIMIT}`,
          connections: CONNECTIONS,
        },
        sql: () => searchSql,
      },
      search_two_words: {
        http: {
          url: `${url}/api/v1/search?q=${encodeURIComponent(SEARCH_WORDS)}&limit=${LIMIT}`,
          connections: CONNECTIONS,
        },
        sql: () => searchWordsSql,
      },
    };
    const { rows: counts } = await sql<{ one: number; two: number }>`select
        count(*) filter (where search_vector @@ to_tsquery('simple', 'river:*')) as one,
        count(*) filter (where search_vector @@ to_tsquery('simple', 'river:* & guitar:*')) as two
      from videos`.execute(db);
    progress(`search "${SEARCH_WORD}" matches ${counts[0]!.one} videos, "${SEARCH_WORDS}" ${counts[0]!.two}`);

    progress(`warm-up, ${WARMUP_SECONDS} s each`);
    for (const e of Object.values(endpoints)) {
      await load({ ...e.http, seconds: WARMUP_SECONDS });
      await sqlLoad(bare, e.sql, CONNECTIONS, WARMUP_SECONDS);
    }
    const results: Record<string, { http: LoadResult; sql: LoadResult }> = {};
    for (const [name, e] of Object.entries(endpoints)) {
      const httpRuns: LoadResult[] = [];
      const sqlRuns: LoadResult[] = [];
      for (let i = 1; i <= REPEATS; i++) {
        httpRuns.push(await load({ ...e.http, seconds: SECONDS }));
        progress(`${name} HTTP run ${i}: ${describe(httpRuns.at(-1)!)}`);
        sqlRuns.push(await sqlLoad(bare, e.sql, CONNECTIONS, SECONDS));
        progress(`${name} bare SQL run ${i}: ${describe(sqlRuns.at(-1)!)}`);
      }
      results[name] = { http: median(httpRuns), sql: median(sqlRuns) };
    }

    const invalidation = await invalidationMs(app, url, progress);
    const cache = app.services.discovery.recommendations.cache;
    const r = results.recommended!;
    const s = results.search!;
    const w = results.search_two_words!;
    const u = results.search_uncached!;
    return {
      recommended_p50_ms: { value: r.http.p50Ms, unit: 'ms' },
      recommended_p99_ms: { value: r.http.p99Ms, unit: 'ms', target: '<= 20' },
      recommended_rps: { value: r.http.perSecond, unit: 'req/s' },
      recommended_sql_p50_ms: { value: r.sql.p50Ms, unit: 'ms' },
      recommended_sql_p99_ms: { value: r.sql.p99Ms, unit: 'ms' },
      recommended_sql_rps: { value: r.sql.perSecond, unit: 'req/s' },
      recommended_vs_sql_ratio: { value: r.http.perSecond / r.sql.perSecond, unit: 'x' },
      recommended_cache_hit_ratio: { value: cache.hits / Math.max(1, cache.hits + cache.misses), unit: 'x' },
      search_p50_ms: { value: s.http.p50Ms, unit: 'ms' },
      search_p99_ms: { value: s.http.p99Ms, unit: 'ms', target: '<= 50' },
      search_rps: { value: s.http.perSecond, unit: 'req/s' },
      search_sql_p50_ms: { value: s.sql.p50Ms, unit: 'ms' },
      search_sql_p99_ms: { value: s.sql.p99Ms, unit: 'ms' },
      search_sql_rps: { value: s.sql.perSecond, unit: 'req/s' },
      search_vs_sql_ratio: { value: s.http.perSecond / s.sql.perSecond, unit: 'x' },
      search_uncached_p50_ms: { value: u.http.p50Ms, unit: 'ms' },
      search_uncached_p99_ms: { value: u.http.p99Ms, unit: 'ms' },
      search_uncached_rps: { value: u.http.perSecond, unit: 'req/s' },
      search_uncached_vs_sql_ratio: { value: u.http.perSecond / u.sql.perSecond, unit: 'x' },
      search_two_words_p50_ms: { value: w.http.p50Ms, unit: 'ms' },
      search_two_words_p99_ms: { value: w.http.p99Ms, unit: 'ms', target: '<= 50' },
      search_two_words_rps: { value: w.http.perSecond, unit: 'req/s' },
      search_two_words_sql_p99_ms: { value: w.sql.p99Ms, unit: 'ms' },
      search_two_words_sql_rps: { value: w.sql.perSecond, unit: 'req/s' },
      search_two_words_vs_sql_ratio: { value: w.http.perSecond / w.sql.perSecond, unit: 'x' },
      unpublished_leaves_recommended_ms: { value: invalidation, unit: 'ms' },
    };
  } finally {
    await scene.close();
  }
}

/** 1k owners, 1k tags, 100k videos (three tags each), their view counts; all in SQL. */
export async function seed(db: Db) {
  await sql`insert into users (id, username, email, password_hash, display_name)
    select gen_random_uuid(), 'owner' || i, 'owner' || i || '@example.test', 'not a hash', 'Owner ' || i
    from generate_series(1, ${OWNERS}) i`.execute(db);
  await sql`insert into tags (id, name, slug)
    select gen_random_uuid(), 'Tag ' || lpad(i::text, 4, '0'), 'tag-' || lpad(i::text, 4, '0')
    from generate_series(1, ${TAGS}) i`.execute(db);
  await sql`with owners as (select array_agg(id) ids from users where username like 'owner%'),
      words as (select ${WORDS}::text[] w, ${[...CATEGORIES]}::text[] c)
    insert into videos (id, owner_id, title, description, status, visibility, playback_version, media_info,
      publication, published_at, tags, category, access_tier, hidden, created_at)
    select gen_random_uuid(), owners.ids[1 + (i % ${OWNERS})],
      initcap(w[1 + (hashint4(i) & 1023) % cardinality(w)]) || ' ' || w[1 + (hashint4(i + 1) & 1023) % cardinality(w)]
        || ' ' || w[1 + (hashint4(i + 2) & 1023) % cardinality(w)] || ' ' || i,
      'About ' || w[1 + (hashint4(i + 3) & 1023) % cardinality(w)] || ' and ' || w[1 + (hashint4(i + 4) & 1023) % cardinality(w)],
      'ready',
      case when i % 50 = 0 then 'private' when i % 50 = 1 then 'unlisted' else 'public' end,
      1,
      jsonb_build_object('durationS', 10 + (hashint4(i + 5) & 4095)),
      case when i % 40 = 2 then 'unpublished' else 'published' end,
      now() - make_interval(secs => i * 300),
      array['tag-' || lpad((1 + (hashint4(i + 6) & 65535) % ${TAGS})::text, 4, '0'),
            'tag-' || lpad((1 + (hashint4(i + 7) & 65535) % ${TAGS})::text, 4, '0'),
            'tag-' || lpad((1 + (hashint4(i + 8) & 65535) % ${TAGS})::text, 4, '0')],
      c[1 + i % 10],
      case when i % 10 = 3 then 1 when i % 20 = 4 then 2 else 0 end,
      i % 100 = 5,
      now() - make_interval(secs => i * 300)
    from generate_series(1, ${VIDEOS}) i, owners, words`.execute(db);
  await sql`insert into video_stats (video_id, views_member, views_non_member)
    select id, (hashtext(id::text) & 1023), (hashtext(title) & 65535) from videos`.execute(db);
  // What autovacuum would have done by the time such a catalog is searched.
  await sql`vacuum analyze videos`.execute(db);
  await sql`analyze`.execute(db);
}

/** The SQL text and parameters of the search query Vireo sends for these words (as its repo builds it). */
async function searchStatement(db: Db, q: string): Promise<{ text: string; values: unknown[] }> {
  let captured: { text: string; values: unknown[] } | undefined;
  const capture = {
    query: async (compiled: { sql: string; parameters: readonly unknown[] }) => {
      captured = { text: compiled.sql, values: [...compiled.parameters] };
      return [];
    },
  } as unknown as SearchPool;
  await search(db, capture, { q, sort: 'relevance', limit: LIMIT + 1 });
  return captured!;
}

/**
 * From the commit of an unpublish to the video gone from recommendations, through the outbox relay, the
 * subscriber, NOTIFY and the node's drop; median of five. Each video gets a tag of its own first, so that
 * a viewer preferring that tag is recommended exactly that video while it is cached.
 */
async function invalidationMs(app: App, url: string, progress: (line: string) => void): Promise<number> {
  const db = app.database.db;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { rows } = await sql<{ id: string; owner_id: string }>`select v.id, v.owner_id from videos v
      where v.publication = 'published' and not v.hidden and v.visibility = 'public' and v.access_tier = 0
      order by v.created_at desc offset ${i} limit 1`.execute(db);
    const video = rows[0]!;
    const slug = `solo-${i}`;
    await sql`update videos set tags = tags || ${slug}::text where id = ${video.id}`.execute(db);
    const { rows: tag } = await sql<{ id: string }>`insert into tags (id, name, slug)
      values (gen_random_uuid(), ${slug}, ${slug}) returning id`.execute(db);
    const session = `bench-invalidation-session-${i}`;
    await fetch(`${url}/api/v1/tags/my`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: session, tag_ids: [tag[0]!.id] }),
    });
    const recommended = async () => {
      const res = await fetch(`${url}/api/v1/videos/recommended?session_id=${session}`);
      return ((await res.json()) as { items: { id: string }[] }).items.map((v) => v.id);
    };
    if ((await recommended()).join() !== video.id) throw new Error('the solo tag recommends its video');
    await db.transaction().execute(async (tx) => {
      await sql`update videos set publication = 'unpublished' where id = ${video.id}`.execute(tx);
      await emit(
        tx,
        videoUnpublished.create({
          aggregateId: video.id,
          payload: { video_id: video.id, owner_id: video.owner_id, publication: 'unpublished', reason: null },
        }),
      );
    });
    const committed = performance.now();
    while ((await recommended()).includes(video.id)) {
      if (performance.now() - committed > 30_000) throw new Error('the unpublished video stayed');
    }
    times.push(performance.now() - committed);
  }
  progress(`unpublished video left recommendations after ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  return times.sort((a, b) => a - b)[2]!;
}

export default {
  description: `GET /api/v1/videos/recommended and GET /api/v1/search (one common word, asked again (cached) and on a node without the search cache; two words) on ${VIDEOS / 1000}k videos, ${TAGS} tags (${CONNECTIONS} connections), each beside its SQL query run bare on a pg pool; median of ${REPEATS} × ${SECONDS} s`,
  run,
} satisfies Benchmark;
