import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { signSummary, toSummary } from '../discovery/index.ts';
import type { PlaybackSigner } from '../videos/index.ts';
import { likedCursor, likedVideosPage, likedVideosQuery, likeParams } from './schema.ts';
import type { LikesService } from './service.ts';

const tags = ['likes'];

export function likesRoutes(app: HttpServer, likes: LikesService, signer: PlaybackSigner): void {
  app.post('/api/v1/like/:type/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Like a video or a comment; liking again changes nothing',
      params: likeParams,
      response: {
        204: noContent,
        403: problemSchema.describe('MEMBERSHIP_REQUIRED, PREMIUM_REQUIRED or COMMENTS_DISABLED'),
        404: problemSchema.describe('VIDEO_NOT_FOUND or COMMENT_NOT_FOUND'),
      },
    },
    handler: async (req, reply) => {
      await likes.like(principalOf(req), req.params.type, req.params.id);
      return reply.status(204).send(null);
    },
  });

  app.delete('/api/v1/like/:type/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Take a like back; without one, nothing changes',
      params: likeParams,
      response: { 204: noContent },
    },
    handler: async (req, reply) => {
      await likes.unlike(principalOf(req), req.params.type, req.params.id);
      return reply.status(204).send(null);
    },
  });

  app.get('/api/v1/users/me/likes', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Videos I liked, last liked first (those anyone may find, and my own)',
      querystring: likedVideosQuery,
      response: { 200: likedVideosPage },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, likedCursor) : undefined;
      const rows = await likes.likedVideos(principalOf(req).userId, { limit, after });
      const page = toPage(rows, limit, (r) => [r.liked_key, r.id]);
      return {
        items: page.items.map((r) => ({
          ...signSummary(toSummary(r), signer),
          liked_at: r.liked_at.toISOString(),
        })),
        next_cursor: page.next_cursor,
      };
    },
  });
}
