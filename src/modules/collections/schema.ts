import { z } from 'zod';
import { cursorTime, pageQuery } from '../../platform/http/pagination.ts';
import { videoSummaryDto } from '../discovery/index.ts';

/** Routes address a collection by id, or the caller's Watch later by `watch-later`. */
export const WATCH_LATER_REF = 'watch-later';
/**
 * Ids in one spelling: the service matches video ids of the request against those of its rows (moves,
 * events), so an upper-case id that PostgreSQL accepts was "not in this collection" to JavaScript.
 */
const id = z.uuid().toLowerCase();
export const collectionRef = z
  .union([z.literal(WATCH_LATER_REF), id])
  .describe('A collection id, or `watch-later` for your own Watch later');

export const collectionParams = z.object({ id: collectionRef });
export const itemParams = z.object({ id: collectionRef, video_id: id });
export const userParams = z.object({ id });

const name = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const description = z.string().max(1000, 'must be at most 1000 characters');
const visibility = z.enum(['public', 'private']);

export const createBody = z.object({
  name,
  description: description.default(''),
  visibility: visibility.default('private').describe('Private ones are seen by their owner only'),
});

export const updateBody = z.object({
  name: name.optional(),
  description: description.optional(),
  visibility: visibility.optional(),
});

export const addItemBody = z.object({
  video_id: id,
  position: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('0-based place in the list (past the end: last); absent: added last'),
});

export const moveBody = z
  .object({
    before_video_id: id.optional(),
    after_video_id: id.optional(),
    index: z.number().int().min(0).optional().describe('0-based place in the list (past the end: last)'),
  })
  .refine((b) => [b.before_video_id, b.after_video_id, b.index].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of before_video_id, after_video_id and index',
    path: ['index'],
  });

export const listQuery = pageQuery;
// A time, checked: any string here went into the query as a timestamptz and failed it (500).
export const collectionsCursor = z.tuple([cursorTime, z.uuid()]);
export const itemsCursor = z.tuple([z.number(), z.uuid()]);

export const collectionDto = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    kind: z.enum(['playlist', 'watch_later']),
    name: z.string(),
    description: z.string(),
    visibility,
    items_count: z.number().int().describe('To its owner, every item; to others, the items they are shown'),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Collection' });

export const collectionsPage = z.object({
  items: z.array(collectionDto),
  next_cursor: z.string().nullable(),
});

export const collectionItemDto = videoSummaryDto
  .extend({ added_at: z.iso.datetime().describe('When it was put in this collection') })
  .meta({ id: 'CollectionItem' });

export const itemsPage = z.object({
  items: z.array(collectionItemDto).describe('In order; videos the caller may not see are left out'),
  next_cursor: z.string().nullable(),
});
