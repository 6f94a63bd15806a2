import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { toCommentDto } from './dto.ts';
import type { CommentView, ListAfter } from './repo.ts';
import {
  commentCreateBody,
  commentDto,
  commentEditBody,
  commentIdParams,
  commentListQuery,
  commentPage,
  repliesQuery,
  replyPage,
  timeCursor,
  topCursor,
  videoIdParams,
} from './schema.ts';
import type { CommentsService } from './service.ts';

const tags = ['comments'];
const videoNotFound = problemSchema.describe('VIDEO_NOT_FOUND');
const notFound = problemSchema.describe('COMMENT_NOT_FOUND');
const tierRequired = problemSchema.describe('MEMBERSHIP_REQUIRED or PREMIUM_REQUIRED');
const newestKey = (c: CommentView) => [c.sort_key, c.id];

export function commentsRoutes(app: HttpServer, comments: CommentsService): void {
  app.get('/api/v1/videos/:id/comments', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: "A video's comments (replies are read per comment), newest or most liked first",
      params: videoIdParams,
      querystring: commentListQuery,
      response: { 200: commentPage, 403: tierRequired, 404: videoNotFound },
    },
    handler: async (req) => {
      const { order, limit, cursor } = req.query;
      let after: ListAfter;
      if (cursor && order === 'top') after = { order, key: decodeCursor(cursor, topCursor) };
      else if (cursor) after = { order: 'newest', key: decodeCursor(cursor, timeCursor) };
      const { enabled, rows } = await comments.list(req.params.id, req.principal, { order, limit, after });
      const page = toPage(rows, limit, order === 'top' ? (c) => [Number(c.like_count), c.id] : newestKey);
      return {
        items: page.items.map(toCommentDto),
        next_cursor: page.next_cursor,
        comments_enabled: enabled,
      };
    },
  });

  app.post('/api/v1/videos/:id/comments', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Comment on a video, or answer a comment (`parent_id`); 10 a minute per account by default',
      params: videoIdParams,
      body: commentCreateBody,
      response: {
        201: commentDto,
        403: problemSchema.describe('COMMENTS_DISABLED, MEMBERSHIP_REQUIRED or PREMIUM_REQUIRED'),
        404: problemSchema.describe('VIDEO_NOT_FOUND, or COMMENT_NOT_FOUND naming parent_id'),
        429: problemSchema.describe('RATE_LIMITED'),
      },
    },
    handler: async (req, reply) => {
      const made = await comments.create(req.params.id, principalOf(req), req.body);
      return reply.status(201).send(toCommentDto(made));
    },
  });

  app.get('/api/v1/comments/:id', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'One comment',
      params: commentIdParams,
      response: { 200: commentDto, 403: tierRequired, 404: notFound },
    },
    handler: async (req) => toCommentDto(await comments.get(req.params.id, req.principal)),
  });

  app.get('/api/v1/comments/:id/replies', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'The answers to a comment, oldest first',
      params: commentIdParams,
      querystring: repliesQuery,
      response: { 200: replyPage, 403: tierRequired, 404: notFound },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const after = cursor ? decodeCursor(cursor, timeCursor) : undefined;
      const rows = await comments.replies(req.params.id, req.principal, { limit, after });
      const page = toPage(rows, limit, newestKey);
      return { items: page.items.map(toCommentDto), next_cursor: page.next_cursor };
    },
  });

  app.patch('/api/v1/comments/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: "Change a comment's text (its author); counts toward the per-minute limit of comments",
      params: commentIdParams,
      body: commentEditBody,
      response: {
        200: commentDto,
        403: problemSchema.describe('PERMISSION_DENIED: not its author; or COMMENTS_DISABLED'),
        404: notFound,
        429: problemSchema.describe('RATE_LIMITED: edits count with comments toward the per-minute limit'),
      },
    },
    handler: async (req) => toCommentDto(await comments.edit(req.params.id, principalOf(req), req.body.body)),
  });

  app.delete('/api/v1/comments/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: "Delete a comment (its author, the video's owner or an administrator)",
      params: commentIdParams,
      response: {
        204: noContent,
        403: problemSchema.describe("PERMISSION_DENIED: neither its author, the video's owner nor an admin"),
        404: notFound,
      },
    },
    handler: async (req, reply) => {
      await comments.remove(req.params.id, principalOf(req));
      return reply.status(204).send(null);
    },
  });
}
