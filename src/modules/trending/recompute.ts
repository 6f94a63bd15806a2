// The hourly recomputation of one period, as one set-based statement: interactions are aggregated per
// video by time (likes and comments by created_at, views by day), scored, ranked, and the top videos and
// their tags written. Reads likes, comments, video_views_daily, videos and users (owned elsewhere); writes
// only trending_videos and trending_tags.
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';
import { listable } from '../videos/index.ts';
import { INTERACTION_WEIGHTS, PERIOD_LENGTH, type Period, scoreExpression } from './score.ts';

/** The top of each period that is kept: lists read pages of it, recommendations its head. */
export const TRENDING_VIDEOS_KEPT = 1000;
export const TRENDING_TAGS_KEPT = 100;

// The period is [t0, t1) with t1 = now; the previous one [tp, t0). Views are counted per UTC day, so a
// day that straddles a boundary adds the part of its views that the overlap is of the day (the day so
// far, for today): views are taken as spread evenly over their day.
const span = (period: Period) => sql`span as materialized (
  select now() as t1, now() - ${PERIOD_LENGTH[period]}::interval as t0,
    now() - 2 * ${PERIOD_LENGTH[period]}::interval as tp)`;

const dayShare = (from: string, to: string) => sql`greatest(extract(epoch from
    least(d_end, span.${sql.raw(to)}) - greatest(d_start, span.${sql.raw(from)}))::float8, 0)
  / greatest(extract(epoch from d_end - d_start)::float8, 1)`;

const w = INTERACTION_WEIGHTS;

/**
 * Replaces the period's rows with a fresh ranking and answers how many videos and tags it wrote. Runs in
 * the caller's transaction, so readers see the old ranking until it commits.
 */
export async function recomputePeriod(tx: DbOrTx, period: Period): Promise<{ videos: number; tags: number }> {
  // Two runs of one period (the cron job and a manual one) take turns instead of colliding on keys.
  await sql`select pg_advisory_xact_lock(hashtext('trending.recompute'), hashtext(${period}))`.execute(tx);
  // The monthly aggregation groups every interaction of 60 days: enough memory keeps the hash in RAM.
  await sql`set local work_mem = '64MB'`.execute(tx);
  await sql`delete from trending_videos where period = ${period}`.execute(tx);
  await sql`delete from trending_tags where period = ${period}`.execute(tx);
  const { rows } = await sql<{ videos: number; tags: number }>`
    with ${span(period)},
    parts (video_id, views, likes, cur, prev) as (
      select l.target_id, 0::float8,
        count(*) filter (where l.created_at >= span.t0)::float8,
        ${w.like}::float8 * count(*) filter (where l.created_at >= span.t0),
        ${w.like}::float8 * count(*) filter (where l.created_at < span.t0)
      from likes l cross join span
      where l.target_type = 'video' and l.created_at >= span.tp and l.created_at < span.t1
      group by l.target_id
      union all
      select c.video_id, 0::float8, 0::float8,
        ${w.comment}::float8 * count(*) filter (where c.created_at >= span.t0),
        ${w.comment}::float8 * count(*) filter (where c.created_at < span.t0)
      from comments c cross join span
      where c.created_at >= span.tp and c.created_at < span.t1 and c.deleted_at is null
      group by c.video_id
      union all
      select d.video_id, sum(d.n * ${dayShare('t0', 't1')}), 0::float8,
        ${w.view}::float8 * sum(d.n * ${dayShare('t0', 't1')}),
        ${w.view}::float8 * sum(d.n * ${dayShare('tp', 't0')})
      from (
        select video_id, (member + non_member)::float8 as n,
          (day::timestamp at time zone 'UTC') as d_start,
          least((day::timestamp at time zone 'UTC') + interval '1 day', now()) as d_end
        from video_views_daily
        where day >= ((now() - 2 * ${PERIOD_LENGTH[period]}::interval) at time zone 'UTC')::date
      ) d cross join span
      group by d.video_id
    ),
    totals as (
      select video_id, sum(views) as views, sum(likes) as likes, sum(cur) as cur, sum(prev) as prev
      from parts group by video_id
    ),
    ranked as materialized (
      select id, tags, score, row_number() over (order by score desc, id) as rank
      from (
        select v.id, v.tags, ${scoreExpression(sql`span.t1`)} as score
        from totals t join videos v on v.id = t.video_id cross join span
        where t.cur > 0 and ${listable('v')}
      ) scored
      order by score desc, id
      limit ${TRENDING_VIDEOS_KEPT}
    ),
    videos_written as (
      insert into trending_videos (period, video_id, rank, score, computed_at)
      select ${period}, id, rank, score, (select t1 from span) from ranked
      returning 1
    ),
    -- A tag trends with the videos that carry it: the sum of their scores.
    tags_written as (
      insert into trending_tags (period, tag, rank, score, videos, computed_at)
      select ${period}, tag, row_number() over (order by sum(score) desc, tag), sum(score), count(*),
        (select t1 from span)
      from ranked cross join unnest(ranked.tags) as tag
      group by tag
      order by sum(score) desc, tag
      limit ${TRENDING_TAGS_KEPT}
      returning 1
    )
    select (select count(*) from videos_written)::int as videos,
      (select count(*) from tags_written)::int as tags`.execute(tx);
  return rows[0] ?? { videos: 0, tags: 0 };
}
