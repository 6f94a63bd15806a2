import { z } from 'zod';
import { cursorTime, pageQuery } from '../../platform/http/pagination.ts';
import { videoSummaryDto } from '../discovery/index.ts';
import { REASONS } from './mix.ts';

export const feedQuery = pageQuery;

/** A feed page's cursor: the last item's published_at (microseconds) and id. */
export const feedCursor = z.tuple([cursorTime, z.uuid()]);

export const feedPage = z
  .object({ items: z.array(videoSummaryDto), next_cursor: z.string().nullable() })
  .meta({ id: 'FeedPage' });

export const recommendationsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

export const recommendedVideoDto = videoSummaryDto
  .extend({
    reason: z
      .enum(REASONS)
      .describe(
        'following: from an account followed or a channel joined; similar: shares tags with what you liked or watched; popular: trending this week',
      ),
  })
  .meta({ id: 'RecommendedVideo' });

export const recommendationsList = z
  .object({ items: z.array(recommendedVideoDto) })
  .meta({ id: 'Recommendations' });
