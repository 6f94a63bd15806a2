import { z } from 'zod';
import { cursorTime, pageQuery } from '../../platform/http/pagination.ts';
import { videoSummaryDto } from '../discovery/index.ts';

export const likeTargetType = z.enum(['video', 'comment']);
/**
 * The id in one spelling: it names the like's aggregate (`<user>:<type>:<id>`), and a like and its undoing
 * spelled differently would be two aggregates, delivered in no particular order.
 */
export const likeParams = z.object({ type: likeTargetType, id: z.uuid().toLowerCase() });

export const likedVideosQuery = pageQuery;

export const likedVideoDto = videoSummaryDto
  .extend({ liked_at: z.iso.datetime() })
  .meta({ id: 'LikedVideo' });

export const likedVideosPage = z
  .object({ items: z.array(likedVideoDto), next_cursor: z.string().nullable() })
  .meta({ id: 'LikedVideosPage' });

/** The liked-videos cursor: when the last item was liked (microseconds), and its id. */
export const likedCursor = z.tuple([cursorTime, z.uuid()]);
