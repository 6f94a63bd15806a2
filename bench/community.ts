// Community at scale, against a real Vireo (HTTP server, worker, PostgreSQL): 100k videos, 100k viewers
// and 1M interactions (likes, comments, views). Measures the hourly trending recomputation beside one bare
// aggregation of the same interaction rows; the fan-out of one `new_video` to 100k subscribers (publish →
// last notification stored) beside one bare INSERT … SELECT of as many rows; and GET /api/v1/feed and
// GET /api/v1/recommendations/videos at a fixed concurrency beside a bare route of the same server.
// Medians of three everywhere.
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { startApp } from '../src/app.ts';
import { videoPublished } from '../src/modules/videos/index.ts';
import type { Db } from '../src/platform/db/database.ts';
import { emit } from '../src/platform/events/emit.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { seed as seedCatalog } from './catalog.ts';
import { describe, type LoadResult, load, median } from './lib/load.ts';
import type { Benchmark, Metrics } from './lib/report.ts';
import { openScene, sceneConfig } from './lib/scene.ts';

const VIEWERS = 100_000;
const LIKES = 500_000;
const COMMENTS = 200_000;
const VIEW_DAYS = 300_000;
const CONNECTIONS = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
if (!(SECONDS > 0)) throw new Error('BENCH_SECONDS must be a positive number of seconds');
const WARMUP_SECONDS = Math.min(2, SECONDS);
const REPEATS = 3;
const PASSWORD = 'community bench password';

const mid = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
};

async function run(progress: (line: string) => void): Promise<Metrics> {
  const scene = await openScene(progress, 'vireo-bench-community-');
  try {
    const config = sceneConfig(scene, {
      DB_POOL_MAX: String(CONNECTIONS),
      REGISTER_LIMIT_PER_IP: '1000000',
      LOGIN_LIMIT_PER_ACCOUNT: '1000000',
    });
    const app = await startApp(config, { role: 'all', logger: createLogger('silent') });
    scene.defer(() => app.stop());
    const url = app.url!;
    const db = app.database.db;

    const registered = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench_viewer', email: 'viewer@example.test', password: PASSWORD }),
    });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
    const { access_token: token, user } = (await registered.json()) as {
      access_token: string;
      user: { id: string };
    };

    const seeded = performance.now();
    await seedCatalog(db);
    await seed(db, user.id);
    progress(
      `seeded 100k videos, ${VIEWERS} viewers, ${LIKES} likes, ${COMMENTS} comments, ${VIEW_DAYS} video-days of ` +
        `views in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
    );

    // Trending: the job's handler as the hourly cron runs it, beside one bare pass over the same rows.
    const recompute = app.jobs.get('trending.recompute');
    if (!recompute) throw new Error('no trending.recompute job');
    const jobCtx = { jobId: 'bench', attempts: 1, maxAttempts: 1, signal: new AbortController().signal };
    const trending: number[] = [];
    const trendingBare: number[] = [];
    for (let i = 1; i <= REPEATS; i++) {
      let t0 = performance.now();
      await recompute.handler({}, jobCtx);
      trending.push(performance.now() - t0);
      t0 = performance.now();
      await bareAggregation(db);
      trendingBare.push(performance.now() - t0);
      progress(
        `trending run ${i}: ${trending.at(-1)!.toFixed(0)} ms (bare aggregation ${trendingBare.at(-1)!.toFixed(0)} ms)`,
      );
    }
    const { rows: ranked } = await sql<{ n: number }>`select count(*)::int as n from trending_videos`.execute(
      db,
    );
    progress(`trending rows: ${ranked[0]!.n}`);

    // Fan-out: publish a video of the channel every viewer subscribed to; until the last notification.
    const fanout: number[] = [];
    const fanoutBare: number[] = [];
    for (let i = 1; i <= REPEATS; i++) {
      fanout.push(await fanOutMs(db, i));
      fanoutBare.push(await bareFanOutMs(db));
      progress(
        `fan-out run ${i}: ${fanout.at(-1)!.toFixed(0)} ms (bare insert ${fanoutBare.at(-1)!.toFixed(0)} ms)`,
      );
    }

    // Reads at a fixed concurrency, beside /api/v1/users/me (an authenticated route reading one row).
    const headers = { authorization: `Bearer ${token}` };
    const endpoints = {
      feed: `${url}/api/v1/feed?limit=20`,
      recommendations: `${url}/api/v1/recommendations/videos?limit=20`,
      bare: `${url}/api/v1/users/me`,
    };
    for (const target of Object.values(endpoints)) {
      const res = await fetch(target, { headers });
      if (res.status !== 200) throw new Error(`${target} answered ${res.status}: ${await res.text()}`);
    }
    progress(`warm-up, ${WARMUP_SECONDS} s each`);
    for (const target of Object.values(endpoints)) {
      await load({ url: target, headers, connections: CONNECTIONS, seconds: WARMUP_SECONDS });
    }
    const runs: Record<string, LoadResult[]> = { feed: [], recommendations: [], bare: [] };
    for (let i = 1; i <= REPEATS; i++) {
      for (const [name, target] of Object.entries(endpoints)) {
        runs[name]!.push(await load({ url: target, headers, connections: CONNECTIONS, seconds: SECONDS }));
        progress(`${name} run ${i}: ${describe(runs[name]!.at(-1)!)}`);
      }
    }
    const feed = median(runs.feed!);
    const recs = median(runs.recommendations!);
    const bare = median(runs.bare!);

    return {
      trending_recompute_ms: { value: mid(trending), unit: 'ms', target: '<= 5000' },
      trending_bare_aggregation_ms: { value: mid(trendingBare), unit: 'ms' },
      trending_vs_bare_ratio: { value: mid(trending) / mid(trendingBare), unit: 'x' },
      fanout_100k_ms: { value: mid(fanout), unit: 'ms', target: '<= 10000' },
      fanout_bare_insert_ms: { value: mid(fanoutBare), unit: 'ms' },
      fanout_vs_bare_ratio: { value: mid(fanout) / mid(fanoutBare), unit: 'x' },
      feed_p50_ms: { value: feed.p50Ms, unit: 'ms' },
      feed_p99_ms: { value: feed.p99Ms, unit: 'ms', target: '<= 50' },
      feed_rps: { value: feed.perSecond, unit: 'req/s' },
      recommendations_p50_ms: { value: recs.p50Ms, unit: 'ms' },
      recommendations_p99_ms: { value: recs.p99Ms, unit: 'ms', target: '<= 50' },
      recommendations_rps: { value: recs.perSecond, unit: 'req/s' },
      bare_route_p50_ms: { value: bare.p50Ms, unit: 'ms' },
      bare_route_p99_ms: { value: bare.p99Ms, unit: 'ms' },
      feed_vs_bare_p99_ratio: { value: feed.p99Ms / bare.p99Ms, unit: 'x' },
      recommendations_vs_bare_p99_ratio: { value: recs.p99Ms / bare.p99Ms, unit: 'x' },
    };
  } finally {
    await scene.close();
  }
}

/**
 * 100k viewers; every viewer subscribes to the first owner's channel (the fan-out's audience); 500k likes,
 * 200k comments and 300k video-days of views spread over the last 60 days; the bench viewer follows 50
 * owners, subscribes to 50 channels, liked 30 videos and watched 30.
 */
export async function seed(db: Db, viewerId: string): Promise<void> {
  await sql`insert into users (id, username, email, password_hash, display_name)
    select gen_random_uuid(), 'viewer' || i, 'viewer' || i || '@example.test', 'not a hash', 'Viewer ' || i
    from generate_series(1, ${VIEWERS}) i`.execute(db);
  await sql`insert into channels (id, owner_id, handle, name)
    select gen_random_uuid(), id, username, display_name from users where username like 'owner%'
    on conflict do nothing`.execute(db);
  await sql`create temporary table bench_ids as
    select row_number() over (order by id) as n, id, owner_id from videos where visibility = 'public'`.execute(
    db,
  );
  await sql`create temporary table bench_viewers as
    select row_number() over (order by id) as n, id from users where username like 'viewer%'`.execute(db);
  const { rows } = await sql<{ videos: number }>`select count(*)::int as videos from bench_ids`.execute(db);
  const videos = rows[0]!.videos;
  // Popular videos get more: the video of interaction i is skewed towards low n.
  await sql`insert into likes (target_type, target_id, user_id, video_id, target_owner_id, created_at)
    select 'video', b.id, u.id, b.id, b.owner_id,
      now() - make_interval(secs => (hashint4(i) & 2147483647) % (60 * 86400))
    from generate_series(1, ${LIKES}) i
    join bench_ids b on b.n = 1 + floor(power((hashint4(i + 11) & 1048575) / 1048576.0, 2) * ${videos})
    join bench_viewers u on u.n = 1 + i % ${VIEWERS}
    on conflict do nothing`.execute(db);
  await sql`insert into like_counts (target_type, target_id, likes)
    select 'video', target_id, count(*) from likes group by target_id`.execute(db);
  await sql`insert into comments (id, video_id, author_id, body, created_at)
    select gen_random_uuid(), b.id, u.id, 'Comment ' || i,
      now() - make_interval(secs => (hashint4(i + 3) & 2147483647) % (60 * 86400))
    from generate_series(1, ${COMMENTS}) i
    join bench_ids b on b.n = 1 + floor(power((hashint4(i + 13) & 1048575) / 1048576.0, 2) * ${videos})
    join bench_viewers u on u.n = 1 + (i * 7) % ${VIEWERS}`.execute(db);
  await sql`insert into video_comment_counts (video_id, comments)
    select video_id, count(*) from comments group by video_id`.execute(db);
  await sql`insert into video_views_daily (video_id, day, member, non_member)
    select b.id, current_date - ((hashint4(i + 5) & 1023) % 60), 0, 1 + (hashint4(i + 7) & 255)
    from generate_series(1, ${VIEW_DAYS}) i
    join bench_ids b on b.n = 1 + floor(power((hashint4(i + 17) & 1048575) / 1048576.0, 2) * ${videos})
    on conflict do nothing`.execute(db);
  // The fan-out's audience: every viewer is a subscriber of the first owner's channel.
  await sql`insert into channel_memberships (channel_id, user_id, tier)
    select c.id, u.id, 1 from channels c, bench_viewers u where c.handle = 'owner1'`.execute(db);
  // The bench viewer's graph and history.
  await sql`insert into follows (follower_id, followee_id)
    select ${viewerId}, id from users where username like 'owner%' order by username limit 50`.execute(db);
  await sql`insert into channel_memberships (channel_id, user_id, tier)
    select id, ${viewerId}, 1 from channels where handle like 'owner%' order by handle desc limit 50`.execute(
    db,
  );
  await sql`insert into likes (target_type, target_id, user_id, video_id, target_owner_id)
    select 'video', id, ${viewerId}, id, owner_id from bench_ids where n % 3001 = 7 limit 30`.execute(db);
  await sql`insert into viewer_states (user_id, video_id, liked, progress_s, duration_s, watched_at)
    select ${viewerId}, id, n % 3001 = 7, 30, 600, now() - make_interval(mins => n::int % 1000)
    from bench_ids where n % 1999 = 5 or n % 3001 = 7 limit 60`.execute(db);
  await sql`analyze`.execute(db);
}

/** The interaction rows trending reads, aggregated once per video over the longest period. */
async function bareAggregation(db: Db): Promise<void> {
  await sql`select video_id, sum(n) from (
      select target_id as video_id, count(*) as n from likes
        where target_type = 'video' and created_at > now() - interval '60 days' group by 1
      union all
      select video_id, count(*) from comments where created_at > now() - interval '60 days' group by 1
      union all
      select video_id, sum(member + non_member) from video_views_daily
        where day > current_date - 60 group by 1
    ) x group by video_id`.execute(db);
}

/** Publishes a new video of owner1 (whose channel every viewer subscribed to); ms until 100k are stored. */
async function fanOutMs(db: Db, run: number): Promise<number> {
  const { rows } = await sql<{ id: string; owner_id: string }>`
    insert into videos (id, owner_id, title, status, visibility, playback_version, media_info, publication,
      published_at)
    select gen_random_uuid(), id, 'Fan-out ' || ${run}, 'ready', 'public', 1, '{"durationS": 30}', 'draft', null
    from users where username = 'owner1' returning id, owner_id`.execute(db);
  const video = rows[0]!;
  const started = performance.now();
  await db.transaction().execute(async (tx) => {
    const { rows: published } = await sql<{ published_at: Date }>`update videos
      set publication = 'published', published_at = now() where id = ${video.id}
      returning published_at`.execute(tx);
    await emit(
      tx,
      videoPublished.create({
        aggregateId: video.id,
        payload: {
          video_id: video.id,
          owner_id: video.owner_id,
          title: `Fan-out ${run}`,
          published_at: published[0]!.published_at.toISOString(),
        },
      }),
    );
  });
  for (;;) {
    const { rows: stored } = await sql<{ n: number }>`select count(*)::int as n from notifications
      where video_id = ${video.id} and type = 'new_video'`.execute(db);
    if (stored[0]!.n >= VIEWERS) return performance.now() - started;
    if (performance.now() - started > 120_000) throw new Error(`fan-out stalled at ${stored[0]!.n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The same number of rows in one bare INSERT … SELECT into a copy of the notifications table. */
async function bareFanOutMs(db: Db): Promise<number> {
  await sql`drop table if exists bench_notifications`.execute(db);
  await sql`create table bench_notifications (like notifications including all)`.execute(db);
  const t0 = performance.now();
  await sql`insert into bench_notifications (user_id, type, source_id)
    select m.user_id, 'new_video', 'bench' from channel_memberships m join channels c on c.id = m.channel_id
    where c.handle = 'owner1'`.execute(db);
  const ms = performance.now() - t0;
  await sql`drop table bench_notifications`.execute(db);
  return ms;
}

export default {
  description:
    'community on 100k videos, 100k viewers, 1M interactions: trending recompute, new_video fan-out to ' +
    '100k subscribers, feed and recommendations under load',
  run,
} satisfies Benchmark;
