import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';

export const videoIdParams = z.object({ id: z.uuid() });

export const viewBody = z
  .object({
    session_id: z
      .string()
      .min(16)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
      .optional()
      .describe(
        'Anonymous viewers: an opaque id the client keeps (16–128 characters); without it, the address and user agent stand in. Ignored for a signed-in viewer.',
      ),
  })
  // A body is not needed: signed-in viewers and the address fallback send none.
  .nullish();

export const viewCounts = z
  .object({
    member: z.number().int(),
    non_member: z.number().int(),
    total: z.number().int(),
  })
  .meta({ id: 'ViewCounts' });

export const dashboardVideo = z
  .object({
    id: z.uuid(),
    title: z.string(),
    status: z.string(),
    publication: z.string(),
    visibility: z.string(),
    access_tier: z.number().int(),
    hidden: z.boolean(),
    created_at: z.iso.datetime(),
    published_at: z.iso.datetime().nullable(),
    views: viewCounts,
  })
  .meta({ id: 'DashboardVideo' });

export const dashboardVideosQuery = pageQuery;

export const analyticsQuery = z.object({
  from: z.iso.date().optional().describe('First UTC day (YYYY-MM-DD); default: 29 days before `to`'),
  to: z.iso.date().optional().describe('Last UTC day (YYYY-MM-DD), included; default: today'),
});

export const analyticsDto = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    days: z
      .array(viewCounts.extend({ day: z.iso.date() }))
      .describe('Every day of the range, zeros included'),
    totals: viewCounts.describe('Views within the range'),
    all_time: viewCounts.describe('Every view so far'),
    ranking: z
      .array(viewCounts.extend({ video_id: z.uuid(), title: z.string() }))
      .describe('My ten most viewed videos within the range'),
    member_count: z.number().int().describe('Members of my channel now, every tier'),
    members: z.object({ subscribers: z.number().int(), premium: z.number().int() }),
  })
  .meta({ id: 'DashboardAnalytics' });
