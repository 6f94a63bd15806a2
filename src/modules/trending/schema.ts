import { z } from 'zod';
import { videoSummaryDto } from '../discovery/index.ts';
import { PERIODS } from './score.ts';

const period = z.enum(PERIODS).describe('daily (last 24 h), weekly (7 days) or monthly (30 days)');

export const trendingVideosQuery = z.object({
  period: period.default('weekly'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
});

/** The discover page's list: always the week. */
export const discoverTrendingQuery = trendingVideosQuery.omit({ period: true });

/** A page's cursor: the rank of its last item. */
export const rankCursor = z.tuple([z.number().int().min(0)]);

export const trendingTagsQuery = z.object({
  period: period.default('weekly'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const discoverTagsQuery = trendingTagsQuery.omit({ period: true });

export const trendingVideoDto = videoSummaryDto
  .extend({
    rank: z.number().int().describe('1 is the top; ranks of videos no longer listed are skipped'),
    score: z.number().describe('0..100: interaction, growth, like ratio and freshness, weighted'),
  })
  .meta({ id: 'TrendingVideo' });

export const trendingVideosPage = z
  .object({
    period: period,
    computed_at: z.iso.datetime().nullable().describe('When the ranking was made (hourly); null before'),
    items: z.array(trendingVideoDto),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'TrendingVideosPage' });

export const trendingTagDto = z
  .object({
    tag: z.string().describe("The tag's slug, as videos carry it"),
    name: z.string().nullable().describe('The name of a curated tag; null for others'),
    rank: z.number().int(),
    score: z.number().describe('The sum of the scores of the trending videos that carry it'),
    videos_count: z.number().int().describe('Trending videos that carry it'),
  })
  .meta({ id: 'TrendingTag' });

export const trendingTagsList = z
  .object({
    period: period,
    computed_at: z.iso.datetime().nullable(),
    items: z.array(trendingTagDto),
  })
  .meta({ id: 'TrendingTags' });
