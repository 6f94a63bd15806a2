import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { signSummary, toSummary } from '../discovery/index.ts';
import { type PlaybackSigner, viewerStateDto } from '../videos/index.ts';
import type { WatchedRow } from './repo.ts';
import { progressBody, videoParams, watchedCursor, watchedPage, watchedQuery } from './schema.ts';
import type { ViewingService } from './service.ts';

const tags = ['viewing'];

export function viewingRoutes(
  app: HttpServer,
  { viewing, signer }: { viewing: ViewingService; signer: PlaybackSigner },
): void {
  const pageOf = (rows: WatchedRow[], limit: number) => {
    const page = toPage(rows, limit, (r) => [r.watched_key, r.id]);
    return {
      items: page.items.map((r) => ({
        ...signSummary(toSummary(r), signer),
        progress_s: r.progress_s,
        completed: r.completed,
        watched_at: r.watched_at.toISOString(),
      })),
      next_cursor: page.next_cursor,
    };
  };

  app.put('/api/v1/videos/:id/progress', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Where I stopped watching a video; finished at 95 %, or within its last 10 s',
      params: videoParams,
      body: progressBody,
      response: {
        200: viewerStateDto,
        403: problemSchema.describe('MEMBERSHIP_REQUIRED or PREMIUM_REQUIRED'),
        404: problemSchema.describe('VIDEO_NOT_FOUND'),
      },
    },
    handler: async (req) => viewing.reportProgress(principalOf(req), req.params.id, req.body),
  });

  app.get('/api/v1/users/me/continue-watching', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Videos I started and did not finish, last watched first (only those I may still watch)',
      querystring: watchedQuery,
      response: { 200: watchedPage },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, watchedCursor) : undefined;
      return pageOf(await viewing.continueWatching(principalOf(req), { limit, after }), limit);
    },
  });

  app.get('/api/v1/users/me/history', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Videos I watched, last watched first (only those I may still watch)',
      querystring: watchedQuery,
      response: { 200: watchedPage },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, watchedCursor) : undefined;
      return pageOf(await viewing.history(principalOf(req), { limit, after }), limit);
    },
  });
}
