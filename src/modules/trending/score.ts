// The trending score of a video (the seed's §2.3): four parts, each about 0..1, weighted and scaled to
// 0..100. The parts are computed in SQL over aggregated rows (recompute.ts); this file holds the weights,
// the periods and the expression, so the formula reads in one place.
import { type RawBuilder, sql } from 'kysely';

export const PERIODS = ['daily', 'weekly', 'monthly'] as const;
export type Period = (typeof PERIODS)[number];

/** How far back each period looks; the previous period (for growth) is as long, just before it. */
export const PERIOD_LENGTH: Record<Period, string> = {
  daily: '1 day',
  weekly: '7 days',
  monthly: '30 days',
};

/**
 * Weights for videos. The seed gives weights per content type (workflows 0.4/0.3/0.2/0.1, models
 * 0.3/0.2/0.4/0.1, projects 0.3/0.3/0.2/0.2); for videos:
 * - interaction 0.5: views, likes and comments in the period are what "trending" means for a video; the
 *   logarithm keeps one viral video from flattening the rest of the list.
 * - growth 0.2: lets a video on the rise in before its totals are large; no more, because on small
 *   numbers the ratio jumps (1 → 3 views is +200 %), even capped.
 * - quality 0.15: the like ratio tells a video people liked from one they only clicked; low, because most
 *   viewers never press like and the usual ratio differs from one genre to another.
 * - freshness 0.15: video lists should turn over, so newer videos get an edge; low, because a new video
 *   with no audience must not trend (only videos with interaction in the period are ranked at all).
 */
export const VIDEO_WEIGHTS = { interaction: 0.5, growth: 0.2, quality: 0.15, freshness: 0.15 } as const;

/** Interaction = views + 2·likes + 3·comments: a like costs more than a view, a comment more than both. */
export const INTERACTION_WEIGHTS = { view: 1, like: 2, comment: 3 } as const;

/**
 * Quality is the like ratio (likes per view) in the period, pulled towards a usual ratio of 4 % as if
 * every video had 50 more views and 2 more likes: 2 views and 2 likes (≈ 7.7 %) are then no proof of a
 * better video than 1000 views and 80 likes (≈ 7.8 %), while a well-liked video with an audience shows.
 * It is full at a ratio of 10 %.
 */
export const QUALITY_PRIOR = { views: 50, likes: 2 } as const;
export const FULL_QUALITY_LIKE_RATIO = 0.1;

/** Freshness halves after this many days since publication (the seed's 1 / (1 + days / 30)). */
export const FRESHNESS_DAYS = 30;

/**
 * The score over a row with `cur` and `prev` (interaction in the period and the one before), `views`
 * and `likes` (in the period) and `published_at`; `now` is the end of the period.
 */
export function scoreExpression(now: RawBuilder<Date>): RawBuilder<number> {
  const w = VIDEO_WEIGHTS;
  const lit = (n: number) => sql.lit(n);
  // Likes are not tied to counted views (a viewer may like before the view is counted), so the views
  // are taken as at least the likes, and the ratio is at most 1.
  const ratio = sql`(likes + ${lit(QUALITY_PRIOR.likes)}) / (greatest(views, likes) + ${lit(QUALITY_PRIOR.views)})`;
  const interaction = sql`ln(1 + cur) / 10`;
  // The seed's growth: (cur − prev) / prev, full (1) for a first period, capped at +200 % and halved.
  const growth = sql`least(case when prev > 0 then (cur - prev) / prev when cur > 0 then 1 else 0 end, 2) / 2`;
  const quality = sql`least(${ratio} / ${lit(FULL_QUALITY_LIKE_RATIO)}, 1)`;
  const freshness = sql`1 / (1 + greatest(extract(epoch from ${now} - published_at)::float8, 0) / 86400
    / ${lit(FRESHNESS_DAYS)})`;
  return sql<number>`(100 * (${lit(w.interaction)} * ${interaction} + ${lit(w.growth)} * ${growth}
    + ${lit(w.quality)} * ${quality} + ${lit(w.freshness)} * ${freshness}))::float8`;
}
