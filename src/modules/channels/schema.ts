import { z } from 'zod';
import { cursorTime, pageQuery } from '../../platform/http/pagination.ts';
import { HANDLE } from './handles.ts';

/** ISO 4217 codes a channel may price its premium tier in. */
export const CURRENCIES = [
  'USD',
  'EUR',
  'GBP',
  'JPY',
  'CNY',
  'TWD',
  'HKD',
  'KRW',
  'SGD',
  'INR',
  'CAD',
  'AUD',
  'NZD',
  'CHF',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'BRL',
  'MXN',
] as const;

// One parameter name for every channel route (the router shares the segment): reads take an id or a
// handle, changes an id.
export const channelRefParams = z.object({
  id: z.string().min(1).max(64).describe('The channel id, or its handle (any case)'),
});
export const channelIdParams = z.object({ id: z.uuid() });

export const handle = z
  .string()
  .trim()
  .toLowerCase()
  .regex(HANDLE, 'must be 3-30 letters, digits or underscores');
export const channelName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(50, 'must be at most 50 characters');

const monthlyFee = z
  .string()
  .regex(/^\d{1,4}(\.\d{1,2})?$/, 'must be a decimal string with at most two decimals, e.g. "4.99"')
  .refine((v) => Number(v) <= 1000, 'must be at most 1000')
  .transform((v) => Number(v).toFixed(2));

export const channelUpdateBody = z.object({
  handle: handle.optional(),
  name: channelName.optional(),
  description: z.string().max(1000, 'must be at most 1000 characters').optional(),
  monthly_fee: monthlyFee.optional().describe('Price of the premium tier per month; "0.00" means none'),
  currency: z.enum(CURRENCIES).optional(),
});

export const channelCreateBody = z.object({ handle, name: channelName });

export const channelVideosQuery = pageQuery;

export const membershipTier = z.enum(['none', 'subscriber', 'premium']);

export const channelDto = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    handle: z.string(),
    name: z.string(),
    description: z.string(),
    avatar_url: z.string().nullable(),
    banner_url: z.string().nullable(),
    monthly_fee: z.string().describe('Decimal string with two decimals'),
    currency: z.string(),
    subscriber_count: z.number().int().describe('Members of any tier (premium members subscribe too)'),
    premium_count: z.number().int(),
    membership_tier: membershipTier.describe("The caller's membership"),
    video_count: z.number().int().describe('Videos anyone may see'),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'Channel' });

export const channelVideoDto = z
  .object({
    id: z.uuid(),
    title: z.string(),
    duration_s: z.number().nullable(),
    thumbnail_url: z
      .string()
      .nullable()
      .describe("The video's thumbnail, else its poster; members-only videos' carry a token"),
    views_count: z.number().int(),
    access_tier: z.number().int().min(0).max(2),
    published_at: z.iso.datetime(),
  })
  .meta({ id: 'ChannelVideo' });

export const channelVideosPage = z
  .object({ items: z.array(channelVideoDto), next_cursor: z.string().nullable() })
  .meta({ id: 'ChannelVideosPage' });

/** The cursor of the channel video list: published_at (microseconds) and id of the last item. */
export const channelVideosCursor = z.tuple([cursorTime, z.uuid()]);
