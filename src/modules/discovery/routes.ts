import { z } from 'zod';
import type { Db } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import type { PlaybackSigner } from '../videos/index.ts';
import type { Recommendations } from './recommendations.ts';
import {
  myTagsBody,
  myTagsQuery,
  recommendedQuery,
  searchQuery,
  tagDto,
  tagIdParams,
  tagInput,
  tagList,
  toTagDto,
} from './schema.ts';
import { type SearchPage, searchKey, searchVideos } from './search.ts';
import type { SearchCache } from './search-cache.ts';
import type { SearchPool } from './search-pool.ts';
import { signSummary, videoSummaryDto } from './summary.ts';
import type { TagsService, Viewer } from './tags-service.ts';

export interface DiscoveryRouteDeps {
  db: Db;
  searchPool: SearchPool;
  searches: SearchCache<SearchPage>;
  tags: TagsService;
  recommendations: Recommendations;
  signer: PlaybackSigner;
}

const page = z.object({ items: z.array(videoSummaryDto), next_cursor: z.string().nullable() });

/** The signed-in caller, else the guest's session id, else nobody. */
function viewerOf(principal: { userId: string } | null, sessionId: string | undefined): Viewer | undefined {
  if (principal) return { userId: principal.userId };
  return sessionId ? { sessionId } : undefined;
}

function requireViewer(principal: { userId: string } | null, sessionId: string | undefined): Viewer {
  const viewer = viewerOf(principal, sessionId);
  if (!viewer) {
    throw new DomainError('VALIDATION_FAILED', 'Sign in, or give the session_id of a guest', {
      fields: [{ field: 'session_id', message: 'required for guests' }],
    });
  }
  return viewer;
}

export function discoveryRoutes(
  app: HttpServer,
  { db, searchPool, searches, tags, recommendations, signer }: DiscoveryRouteDeps,
): void {
  app.get('/api/v1/tags', {
    config: { auth: 'public' },
    schema: {
      tags: ['tags'],
      summary: 'Every tag, by name',
      response: { 200: tagList, 400: problemSchema.describe('VALIDATION_FAILED') },
    },
    handler: async () => ({ items: (await tags.list()).map(toTagDto) }),
  });

  app.get('/api/v1/tags/my', {
    config: { auth: 'optional' },
    schema: {
      tags: ['tags'],
      summary: "The tags the caller prefers (a guest's through session_id)",
      querystring: myTagsQuery,
      response: { 200: tagList, 400: problemSchema.describe('VALIDATION_FAILED') },
    },
    handler: async (req) => ({
      items: (await tags.preferred(requireViewer(req.principal, req.query.session_id))).map(toTagDto),
    }),
  });

  app.put('/api/v1/tags/my', {
    config: { auth: 'optional' },
    schema: {
      tags: ['tags'],
      summary: "Replace the tags the caller prefers, at most 5 (a guest's through session_id)",
      body: myTagsBody,
      response: {
        200: tagList,
        400: problemSchema.describe('VALIDATION_FAILED'),
        404: problemSchema.describe('TAG_NOT_FOUND'),
        422: problemSchema.describe('TAG_LIMIT_EXCEEDED'),
      },
    },
    handler: async (req) => {
      const viewer = requireViewer(req.principal, req.body.session_id);
      return { items: (await tags.setPreferred(viewer, req.body.tag_ids)).map(toTagDto) };
    },
  });

  app.post('/api/v1/admin/tags', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'Create a tag',
      body: tagInput,
      response: {
        201: tagDto,
        400: problemSchema.describe('VALIDATION_FAILED'),
        403: problemSchema.describe('ADMIN_REQUIRED'),
        409: problemSchema.describe('TAG_EXISTS'),
      },
    },
    handler: async (req, reply) =>
      reply.status(201).send(toTagDto(await tags.create(principalOf(req), req.body))),
  });

  app.put('/api/v1/admin/tags/:id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'Rename a tag or change its slug (videos carrying the old slug keep it)',
      params: tagIdParams,
      body: tagInput,
      response: {
        200: tagDto,
        400: problemSchema.describe('VALIDATION_FAILED'),
        403: problemSchema.describe('ADMIN_REQUIRED'),
        404: problemSchema.describe('TAG_NOT_FOUND'),
        409: problemSchema.describe('TAG_EXISTS'),
      },
    },
    handler: async (req) => toTagDto(await tags.update(principalOf(req), req.params.id, req.body)),
  });

  app.delete('/api/v1/admin/tags/:id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'Delete a tag (and every preference for it)',
      params: tagIdParams,
      response: {
        204: noContent,
        403: problemSchema.describe('ADMIN_REQUIRED'),
        404: problemSchema.describe('TAG_NOT_FOUND'),
      },
    },
    handler: async (req, reply) => {
      await tags.remove(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  });

  // A static path: Fastify's router prefers it to /api/v1/videos/:id whatever the order.
  app.get('/api/v1/videos/recommended', {
    config: { auth: 'optional' },
    schema: {
      tags: ['videos'],
      summary: "Videos for the caller's preferred tags, in random order; random public videos without tags",
      querystring: recommendedQuery,
      response: {
        200: z.object({ items: z.array(videoSummaryDto) }),
        400: problemSchema.describe('VALIDATION_FAILED'),
      },
    },
    handler: async (req) => ({
      items: (
        await recommendations.recommend(viewerOf(req.principal, req.query.session_id), req.query.limit)
      ).map((s) => signSummary(s, signer)),
    }),
  });

  app.get('/api/v1/search', {
    config: { auth: 'public' },
    schema: {
      tags: ['videos'],
      summary: 'Search listed videos: words (full text, parts of words, any script), filters, sort',
      querystring: searchQuery,
      response: { 200: page, 400: problemSchema.describe('VALIDATION_FAILED') },
    },
    handler: async (req) => {
      const found = await searches.get(searchKey(req.query), () => searchVideos(db, searchPool, req.query));
      return { ...found, items: found.items.map((s) => signSummary(s, signer)) };
    },
  });
}
