import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { etagOf, isNotModified } from '../../platform/http/etag.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { MAX_IMAGE_BYTES } from '../../platform/media/image.ts';
import { sendObject } from '../../platform/storage/object-responses.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import type { PlaybackSigner } from '../videos/index.ts';
import { toChannelDto, toChannelVideoDto } from './dto.ts';
import { IMAGE_FILE, IMAGE_ROUTE, type ImageKind } from './images.ts';
import {
  channelCreateBody,
  channelDto,
  channelIdParams,
  channelRefParams,
  channelUpdateBody,
  channelVideosCursor,
  channelVideosPage,
  channelVideosQuery,
} from './schema.ts';
import type { ChannelsService } from './service.ts';

export interface ChannelsRouteDeps {
  channels: ChannelsService;
  store: ObjectStore;
  signer: PlaybackSigner;
  /** MEDIA_DELIVERY: `redirect` sends image requests to the store's own URL (S3 presigned). */
  delivery: { mode: 'proxy' | 'redirect'; redirectTtlSeconds: number };
}

const tags = ['channels'];
const notFound = problemSchema.describe('CHANNEL_NOT_FOUND');
const denied = problemSchema.describe('PERMISSION_DENIED: neither the owner nor an administrator');
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

export function channelsRoutes(
  app: HttpServer,
  { channels, store, signer, delivery }: ChannelsRouteDeps,
): void {
  /** The channel's page as the caller sees it. */
  const pageOf = async (idOrHandle: string, req: FastifyRequest) => {
    const { channel, counts, tier } = await channels.page(idOrHandle, req.principal);
    return toChannelDto(channel, counts, tier);
  };

  app.get('/api/v1/channels/:id', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'A channel, by id or handle',
      params: channelRefParams,
      response: { 200: channelDto, 404: notFound },
    },
    handler: async (req) => pageOf(req.params.id, req),
  });

  app.get('/api/v1/channels/:id/videos', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: "The channel's videos anyone may see, newest first (ETag / If-None-Match)",
      params: channelRefParams,
      querystring: channelVideosQuery,
      response: { 200: channelVideosPage, 304: channelVideosPage.optional(), 404: notFound },
    },
    handler: async (req, reply) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, channelVideosCursor) : undefined;
      const { rows } = await channels.videos(req.params.id, req.principal, { limit, after });
      const page = toPage(rows, limit, (r) => [r.sort_key, r.id]);
      const body = {
        items: page.items.map((v) => toChannelVideoDto(v, signer)),
        next_cursor: page.next_cursor,
      };
      if (isNotModified(req, reply, etagOf(body))) return reply.status(304).send(undefined);
      return body;
    },
  });

  app.put('/api/v1/channels/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: "Change a channel's handle, name, description or premium fee (owner or administrator)",
      params: channelIdParams,
      body: channelUpdateBody,
      response: { 200: channelDto, 403: denied, 404: notFound, 409: problemSchema.describe('HANDLE_TAKEN') },
    },
    handler: async (req) => {
      const updated = await channels.update(req.params.id, principalOf(req), req.body);
      return pageOf(updated.id, req);
    },
  });

  // Images travel as the request body itself, typed image/png, image/jpeg or image/webp.
  app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<ZodTypeProvider>();
    // Only pictures: any other type (JSON and text included) is answered 415.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      IMAGE_TYPES,
      { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES },
      (_req, body, done) => done(null, body),
    );
    for (const kind of ['avatar', 'banner'] as const satisfies ImageKind[]) {
      const size = kind === 'avatar' ? '256x256' : '2048x512';
      scope.put(`/api/v1/channels/:id/${kind}`, {
        config: { auth: 'user' },
        bodyLimit: MAX_IMAGE_BYTES,
        schema: {
          tags,
          summary: `Set the channel's ${kind}: the picture (PNG, JPEG or WebP, at most 20 MB and 8000 px a side) as the body, typed image/png, image/jpeg or image/webp; stored cropped to ${size}`,
          params: channelIdParams,
          consumes: IMAGE_TYPES,
          body: z.any().describe('The picture itself (binary)'),
          response: {
            200: channelDto,
            403: denied,
            404: notFound,
            413: problemSchema.describe('PAYLOAD_TOO_LARGE'),
            415: problemSchema.describe('UNSUPPORTED_MEDIA_TYPE: not image/png, image/jpeg or image/webp'),
            422: problemSchema.describe('IMAGE_INVALID'),
            429: problemSchema.describe('RATE_LIMITED: 60 images an hour per account'),
          },
        },
        handler: async (req) => {
          const body = req.body as unknown;
          if (!Buffer.isBuffer(body)) {
            throw new DomainError('IMAGE_INVALID', 'Send the picture as the request body', {
              fields: [{ field: kind, message: 'is missing' }],
            });
          }
          const updated = await channels.setImage(req.params.id, principalOf(req), kind, body);
          return pageOf(updated.id, req);
        },
      });
      scope.delete(`/api/v1/channels/:id/${kind}`, {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: `Remove the channel's ${kind}`,
          params: channelIdParams,
          response: { 200: channelDto, 403: denied, 404: notFound },
        },
        handler: async (req) => {
          const updated = await channels.removeImage(req.params.id, principalOf(req), kind);
          return pageOf(updated.id, req);
        },
      });
    }
  });

  app.delete('/api/v1/user/channel', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Delete my channel, its images and all my videos; the account stays',
      response: { 204: noContent, 404: notFound },
    },
    handler: async (req, reply) => {
      await channels.deleteOwn(principalOf(req));
      return reply.status(204).send(null);
    },
  });

  app.post('/api/v1/user/channel', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Make a new channel, after deleting the one I had',
      body: channelCreateBody,
      response: {
        201: channelDto,
        409: problemSchema.describe('CHANNEL_EXISTS or HANDLE_TAKEN'),
      },
    },
    handler: async (req, reply) => {
      const made = await channels.createOwn(principalOf(req), req.body);
      return reply.status(201).send(await pageOf(made.id, req));
    },
  });

  app.get(IMAGE_ROUTE, {
    config: { auth: 'public' },
    // Image files, not the JSON API.
    schema: { hide: true, params: z.object({ id: z.string().max(64), file: z.string().max(80) }) },
    handler: async (req, reply) => {
      const { id, file } = req.params;
      const key = IMAGE_FILE.test(file) ? await channels.currentImage(id, file) : null;
      if (!key) throw new DomainError('NOT_FOUND', 'No such image');
      reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
      // A new image gets a new name: each URL's bytes never change.
      return sendObject(req, reply, store, key, {
        cacheControl: 'public, max-age=31536000, immutable',
        redirectTtlSeconds: delivery.mode === 'redirect' ? delivery.redirectTtlSeconds : undefined,
      });
    },
  });
}
