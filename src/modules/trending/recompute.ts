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

// The period is [t0, t1) with t1 = now; the previous one [tp, t0). Views are counted per UTC day: today's
// count in the period; the day holding t0 adds the part of its views that lies after t0 to the period
// and the rest to the previous one, as if views were spread evenly over their day; likewise the day
// holding tp. Those two shares are worked out once here, so each row of views costs date comparisons.
const span = (period: Period) => sql`span as materialized (
  select t1, t0, tp, t0_day, tp_day,
    extract(epoch from (t0_day + 1) at time zone 'UTC' - t0)::float8 / 86400 as t0_share,
    extract(epoch from (tp_day + 1) at time zone 'UTC' - tp)::float8 / 86400 as tp_share
  from (
    select t1, t0, tp, (t0 at time zone 'UTC')::date as t0_day, (tp at time zone 'UTC')::date as tp_day
    from (select now() as t1, now() - ${PERIOD_LENGTH[period]}::interval as t0,
      now() - 2 * ${PERIOD_LENGTH[period]}::interval as tp) b
  ) d)`;

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
    like_counts as (
      select l.target_id as video_id,
        count(*) filter (where l.created_at >= span.t0)::float8 as cur,
        count(*) filter (where l.created_at < span.t0)::float8 as prev
      from likes l cross join span
      where l.target_type = 'video' and l.created_at >= span.tp and l.created_at < span.t1
      group by l.target_id
    ),
    comment_counts as (
      select c.video_id,
        count(*) filter (where c.created_at >= span.t0)::float8 as cur,
        count(*) filter (where c.created_at < span.t0)::float8 as prev
      from comments c cross join span
      where c.created_at >= span.tp and c.created_at < span.t1 and c.deleted_at is null
      group by c.video_id
    ),
    view_counts as (
      select d.video_id,
        sum((d.member + d.non_member) * case when d.day > span.t0_day then 1
          when d.day = span.t0_day then span.t0_share else 0 end) as cur,
        sum((d.member + d.non_member) * case when d.day > span.tp_day and d.day < span.t0_day then 1
          when d.day = span.t0_day then 1 - span.t0_share
          when d.day = span.tp_day then span.tp_share else 0 end) as prev
      from video_views_daily d cross join span
      where d.day >= span.tp_day
      group by d.video_id
    ),
    -- Driven from the videos, so each join is planned on the statistics of one table (a union of the
    -- three would be guessed at 200 rows and joined row by row).
    totals as (
      select v.id, v.tags, v.published_at,
        coalesce(vc.cur, 0) as views, coalesce(lc.cur, 0) as likes,
        ${w.view} * coalesce(vc.cur, 0) + ${w.like} * coalesce(lc.cur, 0) + ${w.comment} * coalesce(cc.cur, 0) as cur,
        ${w.view} * coalesce(vc.prev, 0) + ${w.like} * coalesce(lc.prev, 0) + ${w.comment} * coalesce(cc.prev, 0) as prev
      from videos v
      left join like_counts lc on lc.video_id = v.id
      left join comment_counts cc on cc.video_id = v.id
      left join view_counts vc on vc.video_id = v.id
      where (lc.video_id is not null or cc.video_id is not null or vc.video_id is not null) and ${listable('v')}
    ),
    -- The top first (a bounded heap over the candidates), then numbered.
    ranked as materialized (
      select id, tags, score, row_number() over (order by score desc, id) as rank
      from (
        select t.id, t.tags, ${scoreExpression(sql`span.t1`)} as score
        from totals t cross join span
        where t.cur > 0
        order by score desc, t.id
        limit ${TRENDING_VIDEOS_KEPT}
      ) top
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
