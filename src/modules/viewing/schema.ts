import { z } from 'zod';
import { cursorTime, pageQuery } from '../../platform/http/pagination.ts';
import { videoSummaryDto } from '../discovery/index.ts';

export const videoParams = z.object({ id: z.uuid().toLowerCase() });

/** A week: longer than any video Vireo accepts. */
const MAX_SECONDS = 7 * 24 * 3600;

export const progressBody = z.object({
  position_s: z.number().min(0).max(MAX_SECONDS).describe('Where the viewer is, in seconds'),
  duration_s: z
    .number()
    .positive()
    .max(MAX_SECONDS)
    .optional()
    .describe("The video's length as the player knows it; used only while the video's own is unknown"),
});

export const watchedQuery = pageQuery;
// A time, checked: any string here went into the query as a timestamptz and failed it (500).
export const watchedCursor = z.tuple([cursorTime, z.uuid()]);

export const watchedVideoDto = videoSummaryDto
  .extend({
    progress_s: z.number().describe('Where the viewer stopped, in seconds'),
    completed: z.boolean(),
    watched_at: z.iso.datetime().describe('When the viewer last reported progress'),
  })
  .meta({ id: 'WatchedVideo' });

export const watchedPage = z.object({ items: z.array(watchedVideoDto), next_cursor: z.string().nullable() });
