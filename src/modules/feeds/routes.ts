import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { signSummary, toSummary } from '../discovery/index.ts';
import type { PlaybackSigner } from '../videos/index.ts';
import { feedCursor, feedPage, feedQuery, recommendationsList, recommendationsQuery } from './schema.ts';
import type { FeedsService } from './service.ts';

export interface FeedsRouteDeps {
  feeds: FeedsService;
  signer: PlaybackSigner;
}

const invalid = problemSchema.describe('VALIDATION_FAILED');

export function feedsRoutes(app: HttpServer, { feeds, signer }: FeedsRouteDeps): void {
  app.get('/api/v1/feed', {
    config: { auth: 'user' },
    schema: {
      tags: ['feed'],
      summary: 'The newest videos of the channels the caller belongs to and the users they follow',
      querystring: feedQuery,
      response: { 200: feedPage, 400: invalid, 401: problemSchema.describe('TOKEN_MISSING') },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, feedCursor) : undefined;
      const rows = await feeds.feed(principalOf(req).userId, limit, after);
      const page = toPage(rows, limit, (r) => [r.sort_key, r.id]);
      return {
        items: page.items.map((r) => signSummary(toSummary(r), signer)),
        next_cursor: page.next_cursor,
      };
    },
  });

  const recommend = async (userId: string | null, limit: number) => ({
    items: (await feeds.recommend(userId, limit)).map((v) => signSummary(v, signer)),
  });

  app.get('/api/v1/recommendations/videos', {
    config: { auth: 'optional' },
    schema: {
      tags: ['feed'],
      summary:
        'Videos for the caller: about 40 % from followed accounts and joined channels, 30 % similar to what they liked and watched, 30 % popular; never what they watched. Anonymous callers get popular videos',
      querystring: recommendationsQuery,
      response: { 200: recommendationsList, 400: invalid },
    },
    handler: async (req) => recommend(req.principal?.userId ?? null, req.query.limit),
  });

  app.get('/api/v1/feed/discover/for-you', {
    config: { auth: 'optional' },
    schema: {
      tags: ['feed'],
      summary: 'Discover: recommendations for the caller (as /recommendations/videos)',
      querystring: recommendationsQuery,
      response: { 200: recommendationsList, 400: invalid },
    },
    handler: async (req) => recommend(req.principal?.userId ?? null, req.query.limit),
  });
}
