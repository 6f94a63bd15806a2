import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { channelImageUrl } from '../channels/index.ts';
import type { FollowUserRow, MembershipRow } from './repo.ts';
import {
  channelIdParams,
  followUsersPage,
  isFollowingDto,
  listQuery,
  subscribedChannelsPage,
  subscriptionDto,
  timeIdCursor,
  userIdParams,
  userStatsDto,
} from './schema.ts';
import type { SocialService } from './service.ts';

const userNotFound = problemSchema.describe('USER_NOT_FOUND: no such user, or a hidden one');
const channelNotFound = problemSchema.describe('CHANNEL_NOT_FOUND');
const TIERS = { 1: 'subscriber', 2: 'premium' } as const;

const pageOf = (query: { limit: number; cursor?: string }) => ({
  limit: query.limit,
  after: query.cursor ? decodeCursor(query.cursor, timeIdCursor) : undefined,
});

const toFollowUser = (r: FollowUserRow) => ({
  id: r.id,
  username: r.username,
  display_name: r.display_name,
  followed_at: r.followed_at.toISOString(),
});

const toSubscribedChannel = (r: MembershipRow) => ({
  id: r.id,
  owner_id: r.owner_id,
  handle: r.handle,
  name: r.name,
  avatar_url: channelImageUrl(r.avatar_key),
  membership_tier: TIERS[r.tier],
  subscribed_at: r.subscribed_at.toISOString(),
});

export function socialRoutes(app: HttpServer, social: SocialService): void {
  const tags = ['social'];

  for (const [method, verb] of [
    ['post', 'Follow'],
    ['delete', 'Stop following'],
  ] as const) {
    app[method]('/api/v1/users/:id/follow', {
      config: { auth: 'user' },
      schema: {
        tags,
        summary: `${verb} a user (idempotent: 204 whether or not anything changed)`,
        params: userIdParams,
        response: {
          204: noContent,
          404: userNotFound,
          422: problemSchema.describe('CANNOT_FOLLOW_SELF'),
        },
      },
      handler: async (req, reply) => {
        const principal = principalOf(req);
        if (method === 'post') await social.follow(principal, req.params.id);
        else await social.unfollow(principal, req.params.id);
        return reply.status(204).send(null);
      },
    });
  }

  for (const side of ['followers', 'following'] as const) {
    app.get(`/api/v1/users/:id/${side}`, {
      config: { auth: 'optional' },
      schema: {
        tags,
        summary:
          side === 'followers' ? "A user's followers, newest first" : 'Whom a user follows, newest first',
        params: userIdParams,
        querystring: listQuery,
        response: { 200: followUsersPage, 404: userNotFound },
      },
      handler: async (req) => {
        const page = pageOf(req.query);
        const rows = await social[side](req.params.id, req.principal, page);
        const { items, next_cursor } = toPage(rows, page.limit, (r) => [r.sort_key, r.id]);
        return { items: items.map(toFollowUser), next_cursor };
      },
    });
  }

  app.get('/api/v1/users/:id/is-following', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Whether I follow this user',
      params: userIdParams,
      response: { 200: isFollowingDto, 404: userNotFound },
    },
    handler: async (req) => ({ following: await social.isFollowing(principalOf(req), req.params.id) }),
  });

  app.get('/api/v1/users/:id/stats', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: "A user's followers, followings, listed videos and likes received",
      params: userIdParams,
      response: { 200: userStatsDto, 404: userNotFound },
    },
    handler: async (req) => {
      const s = await social.stats(req.params.id, req.principal);
      return {
        user_id: req.params.id,
        followers_count: s.followers,
        following_count: s.following,
        videos_count: s.videos,
        likes_received: s.likes_received,
      };
    },
  });

  app.post('/api/v1/channels/:id/subscribe', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Subscribe to a channel (the free tier 1; a premium member stays premium); idempotent',
      params: channelIdParams,
      response: {
        200: subscriptionDto,
        404: channelNotFound,
        422: problemSchema.describe('CANNOT_SUBSCRIBE_OWN_CHANNEL'),
      },
    },
    handler: async (req) => {
      const { tier, members } = await social.subscribe(principalOf(req), req.params.id);
      return { membership_tier: TIERS[tier], subscriber_count: members };
    },
  });

  app.delete('/api/v1/channels/:id/subscribe', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Unsubscribe from a channel; idempotent',
      params: channelIdParams,
      response: {
        200: subscriptionDto,
        404: channelNotFound,
        409: problemSchema.describe('PREMIUM_MEMBERSHIP_ACTIVE: cancel the premium membership instead'),
        422: problemSchema.describe('CANNOT_SUBSCRIBE_OWN_CHANNEL'),
      },
    },
    handler: async (req) => {
      const { members } = await social.unsubscribe(principalOf(req), req.params.id);
      return { membership_tier: 'none' as const, subscriber_count: members };
    },
  });

  app.get('/api/v1/users/me/subscriptions', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'The channels I belong to (subscriber or premium), newest first',
      querystring: listQuery,
      response: { 200: subscribedChannelsPage },
    },
    handler: async (req) => {
      const page = pageOf(req.query);
      const rows = await social.subscriptions(principalOf(req), page);
      const { items, next_cursor } = toPage(rows, page.limit, (r) => [r.sort_key, r.id]);
      return { items: items.map(toSubscribedChannel), next_cursor };
    },
  });
}
