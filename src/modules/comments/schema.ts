import { z } from 'zod';
import { cursorTime, pageQuery } from '../../platform/http/pagination.ts';

/** Characters (code points, so an emoji counts once) a comment may hold. */
export const BODY_MAX = 2000;

const commentText = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .refine((s) => [...s].length <= BODY_MAX, `must be at most ${BODY_MAX} characters`)
  .describe(`1 to ${BODY_MAX} characters; @username names a user`);

/**
 * Ids in one spelling: events name the video (their aggregate, which orders them) and the parent as the
 * request spelled them, and PostgreSQL would accept an upper-case id that JavaScript compares unequal.
 */
const id = z.uuid().toLowerCase();

export const videoIdParams = z.object({ id });
export const commentIdParams = z.object({ id });

export const commentCreateBody = z.object({
  body: commentText,
  parent_id: id.nullable().optional().describe('The comment this one answers, on the same video'),
});
export const commentEditBody = z.object({ body: commentText });

export const commentOrder = z.enum(['newest', 'top']);
export const commentListQuery = pageQuery.extend({
  order: commentOrder.default('newest').describe('newest first, or most liked first'),
});
export const repliesQuery = pageQuery;

export const commentDto = z
  .object({
    id: z.uuid(),
    video_id: z.uuid(),
    parent_id: z.uuid().nullable(),
    author: z
      .object({ id: z.uuid(), username: z.string(), display_name: z.string() })
      .nullable()
      .describe('null once deleted (or while its account is hidden)'),
    body: z.string().describe('Empty once deleted'),
    deleted: z
      .boolean()
      .describe('Deleted, kept in place so its replies read on (or its account is hidden or deleted)'),
    reply_count: z.number().int(),
    like_count: z.number().int(),
    liked_by_me: z.boolean(),
    created_at: z.iso.datetime(),
    edited_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Comment' });

export const commentPage = z
  .object({
    items: z.array(commentDto),
    next_cursor: z.string().nullable(),
    comments_enabled: z.boolean().describe("False when the video's owner turned comments off: no items"),
  })
  .meta({ id: 'CommentPage' });

export const replyPage = z
  .object({ items: z.array(commentDto), next_cursor: z.string().nullable() })
  .meta({ id: 'ReplyPage' });

/** Cursors: the last item's time (microseconds) or like count, then its id. */
export const timeCursor = z.tuple([cursorTime, z.uuid()]);
export const topCursor = z.tuple([z.number().int().min(0), z.uuid()]);
