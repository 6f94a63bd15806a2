import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import type { PlaybackSigner } from '../videos/index.ts';
import { toCollectionDto, toItemDto } from './dto.ts';
import type { CollectionRow, ItemRow } from './repo.ts';
import {
  addItemBody,
  collectionDto,
  collectionItemDto,
  collectionParams,
  collectionsCursor,
  collectionsPage,
  createBody,
  itemParams,
  itemsCursor,
  itemsPage,
  listQuery,
  moveBody,
  updateBody,
  userParams,
} from './schema.ts';
import type { CollectionsService } from './service.ts';

const tags = ['collections'];
const notFound = problemSchema.describe(
  'COLLECTION_NOT_FOUND: no such collection, or a private one of another user',
);
const notOwner = problemSchema.describe('PERMISSION_DENIED: a public collection of another user');
const protectedOne = problemSchema.describe('COLLECTION_PROTECTED: Watch later cannot be renamed or deleted');

export function collectionsRoutes(
  app: HttpServer,
  { collections, signer }: { collections: CollectionsService; signer: PlaybackSigner },
): void {
  const collectionsOf = (rows: CollectionRow[], limit: number, viewerId: string | null) => {
    const page = toPage(rows, limit, (c) => [c.created_key, c.id]);
    return { items: page.items.map((c) => toCollectionDto(c, viewerId)), next_cursor: page.next_cursor };
  };
  const itemsOf = (rows: ItemRow[], limit: number) => {
    const page = toPage(rows, limit, (i) => [i.position, i.id]);
    return { items: page.items.map((i) => toItemDto(i, signer)), next_cursor: page.next_cursor };
  };

  app.get('/api/v1/collections', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'My collections (Watch later included), newest first',
      querystring: listQuery,
      response: { 200: collectionsPage },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, collectionsCursor) : undefined;
      const principal = principalOf(req);
      return collectionsOf(await collections.mine(principal, { limit, after }), limit, principal.userId);
    },
  });

  app.get('/api/v1/users/:id/collections', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: "A user's public collections, newest first (all of them when it is me)",
      params: userParams,
      querystring: listQuery,
      response: { 200: collectionsPage, 404: problemSchema.describe('USER_NOT_FOUND') },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, collectionsCursor) : undefined;
      const rows = await collections.ofUser(req.params.id, req.principal, { limit, after });
      return collectionsOf(rows, limit, req.principal?.userId ?? null);
    },
  });

  app.post('/api/v1/collections', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Make a playlist',
      body: createBody,
      response: { 201: collectionDto, 422: problemSchema.describe('COLLECTION_LIMIT_REACHED') },
    },
    handler: async (req, reply) => {
      const principal = principalOf(req);
      const made = await collections.create(principal, req.body);
      return reply.status(201).send(toCollectionDto(made, principal.userId));
    },
  });

  app.get('/api/v1/collections/:id', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'A collection: mine, or a public one of another user',
      params: collectionParams,
      response: { 200: collectionDto, 404: notFound },
    },
    handler: async (req) =>
      toCollectionDto(await collections.get(req.params.id, req.principal), req.principal?.userId ?? null),
  });

  app.patch('/api/v1/collections/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: "Change a playlist's name, description or visibility (its owner)",
      params: collectionParams,
      body: updateBody,
      response: { 200: collectionDto, 403: notOwner, 404: notFound, 409: protectedOne },
    },
    handler: async (req) => {
      const principal = principalOf(req);
      return toCollectionDto(await collections.update(req.params.id, principal, req.body), principal.userId);
    },
  });

  app.delete('/api/v1/collections/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Delete a playlist (its owner); the videos stay',
      params: collectionParams,
      response: { 204: noContent, 403: notOwner, 404: notFound, 409: protectedOne },
    },
    handler: async (req, reply) => {
      await collections.remove(req.params.id, principalOf(req));
      return reply.status(204).send(null);
    },
  });

  app.get('/api/v1/collections/:id/items', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: "A collection's videos in order; those the caller may not see are left out",
      params: collectionParams,
      querystring: listQuery,
      response: { 200: itemsPage, 404: notFound },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, itemsCursor) : undefined;
      return itemsOf(await collections.items(req.params.id, req.principal, { limit, after }), limit);
    },
  });

  app.post('/api/v1/collections/:id/items', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Put a video in my collection (201), or leave it where it is when it is there (200)',
      params: collectionParams,
      body: addItemBody,
      response: {
        200: collectionItemDto,
        201: collectionItemDto,
        403: notOwner,
        404: problemSchema.describe('COLLECTION_NOT_FOUND or VIDEO_NOT_FOUND'),
        422: problemSchema.describe('COLLECTION_FULL'),
      },
    },
    handler: async (req, reply) => {
      const { item, added } = await collections.addItem(req.params.id, principalOf(req), req.body);
      return reply.status(added ? 201 : 200).send(toItemDto(item, signer));
    },
  });

  app.delete('/api/v1/collections/:id/items/:video_id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Take a video out of my collection (also when it is not there)',
      params: itemParams,
      response: { 204: noContent, 403: notOwner, 404: notFound },
    },
    handler: async (req, reply) => {
      await collections.removeItem(req.params.id, principalOf(req), req.params.video_id);
      return reply.status(204).send(null);
    },
  });

  app.put('/api/v1/collections/:id/items/:video_id/position', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Move a video of my collection: right before or after another, or to an index',
      params: itemParams,
      body: moveBody,
      response: {
        200: collectionItemDto,
        403: notOwner,
        404: problemSchema.describe('COLLECTION_NOT_FOUND or COLLECTION_ITEM_NOT_FOUND'),
      },
    },
    handler: async (req) => {
      const { before_video_id, after_video_id, index } = req.body;
      const placement =
        before_video_id !== undefined
          ? { before: before_video_id }
          : after_video_id !== undefined
            ? { after: after_video_id }
            : { index: index ?? 0 };
      const item = await collections.moveItem(
        req.params.id,
        principalOf(req),
        req.params.video_id,
        placement,
      );
      return toItemDto(item, signer);
    },
  });
}
