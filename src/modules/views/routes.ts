import { z } from 'zod';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import type { DashboardService } from './dashboard.ts';
import {
  analyticsDto,
  analyticsQuery,
  dashboardVideo,
  dashboardVideosQuery,
  videoIdParams,
  viewBody,
} from './schema.ts';
import type { ViewsService } from './service.ts';

export function viewsRoutes(app: HttpServer, views: ViewsService, dashboard: DashboardService): void {
  app.post('/api/v1/videos/:id/views', {
    config: { auth: 'optional' },
    schema: {
      tags: ['views'],
      summary: 'Count a view when playback starts',
      description:
        'Answers 202 at once, without saying whether the view counts: that is decided at the next flush (every VIEWS_FLUSH_INTERVAL_MS), where it counts when it is the viewer’s first for this video in 24 h on any node (a user by account, an anonymous viewer by `session_id`, else by address and user agent). A member view is one by a member of the video’s channel (any tier) or by its owner; every other view, anonymous ones included, is a non-member view.',
      params: videoIdParams,
      body: viewBody,
      response: {
        202: noContent,
        403: problemSchema.describe('MEMBERSHIP_REQUIRED, PREMIUM_REQUIRED'),
        404: problemSchema.describe('VIDEO_NOT_FOUND'),
      },
    },
    handler: async (req, reply) => {
      await views.record(req.params.id, {
        principal: req.principal,
        sessionId: req.body?.session_id,
        ip: req.ip,
        userAgent: req.headers['user-agent'] ?? '',
      });
      return reply.status(202).send(null);
    },
  });

  const tags = ['dashboard'];

  app.get('/api/v1/dashboard/videos', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'My videos in every state, with their views, newest first',
      querystring: dashboardVideosQuery,
      response: { 200: z.object({ items: z.array(dashboardVideo), next_cursor: z.string().nullable() }) },
    },
    handler: async (req) => {
      const page = await dashboard.videos(principalOf(req).userId, req.query);
      return {
        items: page.items.map((v) => ({
          id: v.id,
          title: v.title,
          status: v.status,
          publication: v.publication,
          visibility: v.visibility,
          access_tier: v.access_tier,
          hidden: v.hidden,
          created_at: v.created_at.toISOString(),
          published_at: v.published_at?.toISOString() ?? null,
          views: v.views,
        })),
        next_cursor: page.next_cursor,
      };
    },
  });

  app.get('/api/v1/dashboard/analytics', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Views of my videos per day, member and non-member, and my most viewed videos',
      querystring: analyticsQuery,
      response: { 200: analyticsDto },
    },
    handler: async (req) => dashboard.analytics(principalOf(req).userId, req.query),
  });
}
