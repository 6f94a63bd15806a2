import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { signSummary } from '../discovery/index.ts';
import type { PlaybackSigner } from '../videos/index.ts';
import {
  discoverTagsQuery,
  discoverTrendingQuery,
  rankCursor,
  trendingTagsList,
  trendingTagsQuery,
  trendingVideosPage,
  trendingVideosQuery,
} from './schema.ts';
import type { Period } from './score.ts';
import { type TrendingService, toTrendingVideo } from './service.ts';

export interface TrendingRouteDeps {
  trending: TrendingService;
  signer: PlaybackSigner;
}

const invalid = problemSchema.describe('VALIDATION_FAILED');

export function trendingRoutes(app: HttpServer, { trending, signer }: TrendingRouteDeps): void {
  const videosPage = async (period: Period, limit: number, cursor: string | undefined) => {
    const afterRank = cursor ? decodeCursor(cursor, rankCursor)[0] : undefined;
    const rows = await trending.videos(period, limit, afterRank);
    const page = toPage(rows, limit, (r) => [r.rank]);
    return {
      period,
      computed_at: rows[0]?.computed_at.toISOString() ?? null,
      items: page.items.map((r) => signSummary(toTrendingVideo(r), signer)),
      next_cursor: page.next_cursor,
    };
  };
  const tagsList = async (period: Period, limit: number) => {
    const rows = await trending.tags(period, limit);
    return {
      period,
      computed_at: rows[0]?.computed_at.toISOString() ?? null,
      items: rows.map((r) => ({
        tag: r.tag,
        name: r.name,
        rank: r.rank,
        score: r.score,
        videos_count: r.videos,
      })),
    };
  };

  app.get('/api/v1/trending/videos', {
    config: { auth: 'public' },
    schema: {
      tags: ['trending'],
      summary: 'Trending videos of a period, best first (recomputed hourly)',
      querystring: trendingVideosQuery,
      response: { 200: trendingVideosPage, 400: invalid },
    },
    handler: async (req) => videosPage(req.query.period, req.query.limit, req.query.cursor),
  });

  app.get('/api/v1/trending/tags', {
    config: { auth: 'public' },
    schema: {
      tags: ['trending'],
      summary: 'Tags of the trending videos of a period, best first',
      querystring: trendingTagsQuery,
      response: { 200: trendingTagsList, 400: invalid },
    },
    handler: async (req) => tagsList(req.query.period, req.query.limit),
  });

  app.get('/api/v1/feed/discover/trending', {
    config: { auth: 'public' },
    schema: {
      tags: ['feed'],
      summary: "Discover: the week's trending videos",
      querystring: discoverTrendingQuery,
      response: { 200: trendingVideosPage, 400: invalid },
    },
    handler: async (req) => videosPage('weekly', req.query.limit, req.query.cursor),
  });

  app.get('/api/v1/feed/discover/trending-tags', {
    config: { auth: 'public' },
    schema: {
      tags: ['feed'],
      summary: "Discover: the week's trending tags",
      querystring: discoverTagsQuery,
      response: { 200: trendingTagsList, 400: invalid },
    },
    handler: async (req) => tagsList('weekly', req.query.limit),
  });
}
