// Media URLs: /media/videos/<id>/<version>/e<access epoch>/<file>. Players fetch them directly, often
// from another origin, so every answer (errors too) carries CORS headers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { HttpServer } from '../../platform/http/server.ts';
import { sendObject } from '../../platform/storage/object-responses.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import {
  EPOCH_PARAM,
  epochOfParam,
  MEDIA_ROUTE,
  MEDIA_ROUTES_ALL,
  type PlaybackTokens,
  VERSION_PARAM,
  type VideosService,
} from '../videos/index.ts';
import { sendRewritten } from './rewritten-response.ts';
import { PlaybackService } from './service.ts';

export interface PlaybackDeps {
  store: ObjectStore;
  videos: VideosService;
  tokens: PlaybackTokens;
  /** MEDIA_DELIVERY; absent: Vireo serves every file. */
  delivery?: { mode: 'proxy' | 'redirect'; redirectTtlSeconds: number };
}

const mediaParams = z.object({
  id: z.uuid(),
  version: z.string().regex(VERSION_PARAM, 'must be a positive integer').transform(Number),
  /** The video's access epoch (videos/media-layout.ts): URLs of other epochs are refused. */
  epoch: z.string().regex(EPOCH_PARAM, 'must be "e" and a positive integer').transform(epochOfParam),
  /** The file inside the version folder, e.g. hls/720p/seg_00003.m4s; checked by the service. */
  '*': z.string(),
});

/** Media of a video that is not public needs a playback token (tokens.ts); other parameters are ignored. */
const mediaQuery = z.object({ token: z.string().max(512).optional() });

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Content-Length, Content-Range, ETag',
  // Lets pages that isolate themselves (COEP) embed posters and thumbnails.
  'cross-origin-resource-policy': 'cross-origin',
};

const PREFLIGHT = {
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Range, If-None-Match, If-Modified-Since, If-Range, Authorization',
  'access-control-max-age': '86400',
};

/** onSend runs for error answers too, even those the auth guard throws before the handler. */
async function mediaHeaders(_request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  reply.headers(CORS);
  // A 404 is cacheable by default; the same URL may become playable a moment later.
  if (reply.statusCode >= 400) reply.header('cache-control', 'no-store');
  return payload;
}

export function playbackRoutes(app: HttpServer, { store, videos, tokens, delivery }: PlaybackDeps): void {
  const playback = new PlaybackService(videos, tokens);

  app.route({
    method: ['GET', 'HEAD'],
    url: MEDIA_ROUTE,
    config: { auth: 'optional' },
    // Media files, not the JSON API, and OpenAPI has no name for the wildcard: kept out of the document.
    schema: { hide: true, params: mediaParams, querystring: mediaQuery },
    onSend: mediaHeaders,
    handler: async (request, reply) => {
      const { id, version, epoch, '*': path } = request.params;
      const { principal, query } = request;
      const media = await playback.locate(id, version, epoch, path, principal, query.token);
      if (media.rewrite) {
        return sendRewritten(request, reply, store, media.key, media.rewrite, media.cacheControl);
      }
      return sendObject(request, reply, store, media.key, {
        cacheControl: media.cacheControl,
        // Files that never change (segments, images) may come straight from the store.
        redirectTtlSeconds:
          delivery?.mode === 'redirect' && media.cacheControl.includes('immutable')
            ? delivery.redirectTtlSeconds
            : undefined,
      });
    },
  });

  app.route({
    method: 'OPTIONS',
    url: MEDIA_ROUTES_ALL,
    config: { auth: 'public' },
    schema: { hide: true },
    onSend: mediaHeaders,
    handler: async (_request, reply) => reply.status(204).headers(PREFLIGHT).send(),
  });
}
