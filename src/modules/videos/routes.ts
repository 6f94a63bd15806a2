import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { type Principal, principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { etagOf, isNotModified } from '../../platform/http/etag.ts';
import { decodeCursor, pageQuery, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { MAX_IMAGE_BYTES } from '../../platform/media/image.ts';
import type { NotifyHub } from '../../platform/realtime/notify-hub.ts';
import { sseStreams } from '../../platform/realtime/sse.ts';
import { type PlaybackSigner, toVideoDto } from './dto.ts';
import { streamVideoEvents } from './events-stream.ts';
import type { VideoDetailRow } from './repo.ts';
import { processingDto, publishBody, videoDto, videoIdParams, videoPage, videoPatch } from './schema.ts';
import type { VideosService } from './service.ts';
import type { VideoThumbnails } from './thumbnails.ts';
import { ownerAccessTopic, toProgressEvent, videoAccessTopic } from './topics.ts';

export interface VideosRouteDeps {
  videos: VideosService;
  thumbnails: VideoThumbnails;
  hub: NotifyHub;
  signer: PlaybackSigner;
}

const tags = ['videos'];
const notFound = problemSchema.describe('VIDEO_NOT_FOUND');
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

export function videosRoutes(app: HttpServer, { videos, thumbnails, hub, signer }: VideosRouteDeps): void {
  const streams = sseStreams(app);
  /** A video as it is after a change the caller made (read again: with its channel and views). */
  const show = async (id: string, principal: Principal) =>
    toVideoDto(await videos.detail(id), signer, principal, await videos.viewerStateOf(principal, id));

  app.get('/api/v1/videos/:id', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'A video: status, media info and playback URLs',
      params: videoIdParams,
      response: { 200: videoDto, 404: notFound },
    },
    handler: async (req) => {
      const video = await videos.watchable(req.params.id, req.principal);
      return toVideoDto(video, signer, req.principal, await videos.viewerStateOf(req.principal, video.id));
    },
  });

  // PUT and PATCH alike take any of the editable fields and leave the others as they are.
  for (const method of ['put', 'patch'] as const) {
    app[method]('/api/v1/videos/:id', {
      config: { auth: 'user' },
      schema: {
        tags,
        summary:
          "Edit a video's title, description, tags, category, language, visibility, access tier, " +
          'thumbnail frame or comments switch (owner or admin)',
        params: videoIdParams,
        body: videoPatch,
        response: { 200: videoDto, 403: problemSchema.describe('PERMISSION_DENIED'), 404: notFound },
      },
      handler: async (req) => {
        const video = await videos.edit(req.params.id, principalOf(req), req.body);
        return show(video.id, principalOf(req));
      },
    });
  }

  // The thumbnail travels as the request body itself, typed image/png, image/jpeg or image/webp.
  app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<ZodTypeProvider>();
    // Only pictures: any other type (JSON and text included) is answered 415.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      IMAGE_TYPES,
      { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.put('/api/v1/videos/:id/thumbnail', {
      config: { auth: 'user' },
      bodyLimit: MAX_IMAGE_BYTES,
      schema: {
        tags,
        summary:
          "Set the video's thumbnail: the picture (PNG, JPEG or WebP, at most 20 MB and 8000 px a side) " +
          'as the body; stored cropped to 1280x720 (owner or admin)',
        params: videoIdParams,
        consumes: IMAGE_TYPES,
        body: z.any().describe('The picture itself (binary)'),
        response: {
          200: videoDto,
          403: problemSchema.describe('PERMISSION_DENIED'),
          404: notFound,
          413: problemSchema.describe('PAYLOAD_TOO_LARGE'),
          415: problemSchema.describe('UNSUPPORTED_MEDIA_TYPE: not image/png, image/jpeg or image/webp'),
          422: problemSchema.describe('IMAGE_INVALID'),
        },
      },
      handler: async (req) => {
        const body = req.body as unknown;
        if (!Buffer.isBuffer(body)) {
          throw new DomainError('IMAGE_INVALID', 'Send the picture as the request body', {
            fields: [{ field: 'thumbnail', message: 'is missing' }],
          });
        }
        await thumbnails.upload(req.params.id, principalOf(req), body);
        return show(req.params.id, principalOf(req));
      },
    });
  });

  app.delete('/api/v1/videos/:id/thumbnail', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: "Remove the video's own thumbnail (uploaded or chosen frame): back to the poster",
      params: videoIdParams,
      response: { 200: videoDto, 403: problemSchema.describe('PERMISSION_DENIED'), 404: notFound },
    },
    handler: async (req) => {
      await thumbnails.remove(req.params.id, principalOf(req));
      return show(req.params.id, principalOf(req));
    },
  });

  app.delete('/api/v1/videos/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Delete a video that is not published, with every stored file of it (owner or admin)',
      params: videoIdParams,
      response: {
        204: noContent,
        403: problemSchema.describe('PERMISSION_DENIED'),
        404: notFound,
        409: problemSchema.describe('VIDEO_NOT_UNPUBLISHED'),
      },
    },
    handler: async (req, reply) => {
      await videos.deletion.remove(req.params.id, principalOf(req));
      return reply.status(204).send(null);
    },
  });

  app.patch('/api/v1/videos/:id/publish', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Publish, schedule or unpublish a video (owner or admin)',
      params: videoIdParams,
      body: publishBody,
      response: {
        200: videoDto,
        403: problemSchema.describe('PERMISSION_DENIED'),
        404: notFound,
        409: problemSchema.describe('INVALID_STATE'),
      },
    },
    handler: async (req) => {
      const { published, publish_at } = req.body;
      const input = { published, publishAt: publish_at ? new Date(publish_at) : undefined };
      const video = await videos.publishing.setPublication(req.params.id, principalOf(req), input);
      return show(video.id, principalOf(req));
    },
  });

  app.get('/api/v1/users/me/videos', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'My uploads: my videos in every state, newest first (revalidate with If-None-Match)',
      querystring: pageQuery,
      response: { 200: videoPage, 304: videoPage.optional() },
    },
    handler: async (req, reply) => {
      const principal = principalOf(req);
      const { limit, cursor } = req.query;
      const beforeId = cursor ? decodeCursor(cursor, z.tuple([z.uuid()]))[0] : undefined;
      const rows = await videos.listOwned(principal.userId, { limit, beforeId });
      const page = toPage(rows, limit, (v) => [v.id]);
      // The ETag follows the rows, not the body: playback tokens in the body are fresh each time.
      const etag = etagOf([page.next_cursor, page.items.map(versionOf)]);
      if (isNotModified(req, reply, etag, 'private, no-cache')) return reply.status(304).send(undefined);
      return {
        items: page.items.map((v) => toVideoDto(v, signer, principal)),
        next_cursor: page.next_cursor,
      };
    },
  });

  app.get('/api/v1/videos/:id/processing', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'Processing stage and percent (poll with If-None-Match)',
      params: videoIdParams,
      response: { 200: processingDto, 304: processingDto.optional(), 404: notFound },
    },
    handler: async (req, reply) => {
      const body = toProgressEvent(await videos.viewable(req.params.id, req.principal));
      if (isNotModified(req, reply, etagOf(body))) return reply.status(304).send(undefined);
      return body;
    },
  });

  app.get('/api/v1/videos/:id/events', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'Processing progress as Server-Sent Events; ends with a `ready` or `failed` event',
      params: videoIdParams,
      produces: ['text/event-stream'],
      response: { 404: notFound },
    },
    handler: async (req, reply) => {
      const { id } = req.params;
      const { principal } = req;
      const video = await videos.viewable(id, principal);
      const source = {
        current: () => videos.get(id),
        recheck: () => videos.viewable(id, principal),
        accessTopics: [videoAccessTopic(id), ownerAccessTopic(video.owner_id)],
      };
      streamVideoEvents(req, reply, hub, source, streams);
    },
  });

  app.post('/api/v1/videos/:id/reprocess', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Run processing again (owner or admin)',
      params: videoIdParams,
      response: {
        202: videoDto,
        404: notFound,
        409: problemSchema.describe('VIDEO_BUSY or VIDEO_NOT_UPLOADED'),
      },
    },
    handler: async (req, reply) => {
      const video = await videos.reprocess(req.params.id, principalOf(req));
      return reply.status(202).send(await show(video.id, principalOf(req)));
    },
  });
}

/** What a list item's answer depends on, but the playback tokens. */
const versionOf = (v: VideoDetailRow) => [
  v.id,
  v.updated_at.toISOString(),
  v.views_count,
  v.likes_count,
  v.comments_count,
  v.channel_handle,
  v.channel_name,
];
