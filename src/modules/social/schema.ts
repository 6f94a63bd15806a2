import { z } from 'zod';
import { cursorTime, pageQuery } from '../../platform/http/pagination.ts';

/**
 * Ids in one spelling: PostgreSQL compares uuids regardless of case, JavaScript strings do not, so an
 * upper-case id of oneself passed the self-follow check and hit the table's check constraint (500), and
 * events carried ids their subscribers would not match.
 */
const id = z.uuid().toLowerCase();

export const userIdParams = z.object({ id });
// Channel routes share the `:id` segment name with the channels module's routes (one router tree).
export const channelIdParams = z.object({ id });

export const listQuery = pageQuery;

/** Cursor of the follow and subscription lists: the time (to the microsecond) and id of the last item. */
export const timeIdCursor = z.tuple([cursorTime, z.uuid()]);

export const followUserDto = z
  .object({
    id: z.uuid(),
    username: z.string(),
    display_name: z.string(),
    followed_at: z.iso.datetime(),
  })
  .meta({ id: 'FollowUser' });

export const followUsersPage = z
  .object({ items: z.array(followUserDto), next_cursor: z.string().nullable() })
  .meta({ id: 'FollowUsersPage' });

export const isFollowingDto = z
  .object({ following: z.boolean().describe('Whether the caller follows this user') })
  .meta({ id: 'IsFollowing' });

export const userStatsDto = z
  .object({
    user_id: z.uuid(),
    followers_count: z.number().int(),
    following_count: z.number().int(),
    videos_count: z.number().int().describe('Videos anyone may find in a list'),
    likes_received: z.number().int().describe('Likes of their videos and comments'),
  })
  .meta({ id: 'UserStats' });

const membershipTier = z.enum(['none', 'subscriber', 'premium']);

export const subscriptionDto = z
  .object({
    membership_tier: membershipTier.describe("The caller's membership after the request"),
    subscriber_count: z.number().int().describe('Members of any tier (premium members subscribe too)'),
  })
  .meta({ id: 'ChannelSubscription' });

export const subscribedChannelDto = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    handle: z.string(),
    name: z.string(),
    avatar_url: z.string().nullable(),
    membership_tier: membershipTier.exclude(['none']),
    subscribed_at: z.iso.datetime(),
  })
  .meta({ id: 'SubscribedChannel' });

export const subscribedChannelsPage = z
  .object({ items: z.array(subscribedChannelDto), next_cursor: z.string().nullable() })
  .meta({ id: 'SubscribedChannelsPage' });
