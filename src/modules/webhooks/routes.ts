// /api/v1/webhooks: endpoints, their secrets and their delivery log.
import { z } from 'zod';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, pageQuery, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import type { AttemptRow, DeliveryRow, EndpointRow } from './repo.ts';
import {
  createEndpointBody,
  deliveryDto,
  endpointDto,
  endpointWithSecretDto,
  updateEndpointBody,
  WEBHOOK_EVENT_TYPES,
} from './schema.ts';
import type { WebhooksService } from './service.ts';

const tags = ['webhooks'];
const notFound = problemSchema.describe('WEBHOOK_ENDPOINT_NOT_FOUND');
const forbiddenUrl = problemSchema.describe(
  'WEBHOOK_URL_FORBIDDEN: not http(s), does not resolve, or a private or loopback address',
);
const idParams = z.object({ id: z.uuid() });
const beforeOf = (cursor?: string) => (cursor ? decodeCursor(cursor, z.tuple([z.uuid()]))[0] : undefined);

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toEndpointDto(e: EndpointRow): z.infer<typeof endpointDto> {
  return {
    id: e.id,
    owner_id: e.owner_id,
    scope: e.scope,
    url: e.url,
    description: e.description,
    event_types: e.event_types,
    enabled: e.enabled,
    previous_secret_expires_at:
      e.previous_secret_expires_at && e.previous_secret_expires_at > new Date()
        ? e.previous_secret_expires_at.toISOString()
        : null,
    created_at: e.created_at.toISOString(),
    updated_at: e.updated_at.toISOString(),
  };
}

function toDeliveryDto(d: DeliveryRow & { log: AttemptRow[] }): z.infer<typeof deliveryDto> {
  return {
    id: d.id,
    endpoint_id: d.endpoint_id,
    event_id: d.event_id,
    event_type: d.event_type,
    status: d.status,
    attempt_count: d.attempts,
    next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    delivered_at: iso(d.delivered_at),
    created_at: d.created_at.toISOString(),
    attempts: d.log.map((a) => ({
      id: a.id,
      manual: a.manual,
      started_at: a.started_at.toISOString(),
      duration_ms: a.duration_ms,
      response_status: a.response_status,
      error: a.error,
      response_snippet: a.response_snippet,
    })),
  };
}

export function webhooksRoutes(app: HttpServer, webhooks: WebhooksService): void {
  app.post('/api/v1/webhooks/endpoints', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Register an endpoint; the answer holds its signing secret, shown only this once',
      body: createEndpointBody,
      response: { 201: endpointWithSecretDto, 422: forbiddenUrl },
    },
    handler: async (req, reply) => {
      const { endpoint, secret } = await webhooks.create(principalOf(req), req.body);
      reply.header('location', `/api/v1/webhooks/endpoints/${endpoint.id}`);
      return reply.status(201).send({ ...toEndpointDto(endpoint), secret });
    },
  });

  app.get('/api/v1/webhooks/endpoints', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'My endpoints (administrators: instance endpoints too), newest first',
      querystring: pageQuery,
      response: { 200: z.object({ items: z.array(endpointDto), next_cursor: z.string().nullable() }) },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const rows = await webhooks.list(principalOf(req), { limit: limit + 1, beforeId: beforeOf(cursor) });
      const page = toPage(rows, limit, (e) => [e.id]);
      return { items: page.items.map(toEndpointDto), next_cursor: page.next_cursor };
    },
  });

  app.get('/api/v1/webhooks/event-types', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'The event types an endpoint may ask for',
      response: { 200: z.object({ items: z.array(z.string()) }) },
    },
    handler: async () => ({ items: WEBHOOK_EVENT_TYPES }),
  });

  app.get('/api/v1/webhooks/endpoints/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'One endpoint',
      params: idParams,
      response: { 200: endpointDto, 404: notFound },
    },
    handler: async (req) => toEndpointDto(await webhooks.get(principalOf(req), req.params.id)),
  });

  app.put('/api/v1/webhooks/endpoints/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Change the URL, event types, description, or turn the endpoint off and on',
      params: idParams,
      body: updateEndpointBody,
      response: { 200: endpointDto, 404: notFound, 422: forbiddenUrl },
    },
    handler: async (req) => toEndpointDto(await webhooks.update(principalOf(req), req.params.id, req.body)),
  });

  app.delete('/api/v1/webhooks/endpoints/:id', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Remove an endpoint and its delivery log',
      params: idParams,
      response: { 204: noContent, 404: notFound },
    },
    handler: async (req, reply) => {
      await webhooks.remove(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  });

  app.post('/api/v1/webhooks/endpoints/:id/rotate-secret', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'A new signing secret (shown only now); the old one also signs for 24 h',
      params: idParams,
      response: { 200: endpointWithSecretDto, 404: notFound },
    },
    handler: async (req) => {
      const { endpoint, secret } = await webhooks.rotate(principalOf(req), req.params.id);
      return { ...toEndpointDto(endpoint), secret };
    },
  });

  app.get('/api/v1/webhooks/endpoints/:id/deliveries', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: "The endpoint's deliveries, newest first, each with every attempt",
      params: idParams,
      querystring: pageQuery,
      response: {
        200: z.object({ items: z.array(deliveryDto), next_cursor: z.string().nullable() }),
        404: notFound,
      },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const rows = await webhooks.deliveries(principalOf(req), req.params.id, {
        limit: limit + 1,
        beforeId: beforeOf(cursor),
      });
      const page = toPage(rows, limit, (d) => [d.id]);
      return { items: page.items.map(toDeliveryDto), next_cursor: page.next_cursor };
    },
  });

  app.post('/api/v1/webhooks/deliveries/:id/redeliver', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Try a delivery once more, now (also after it was delivered or given up)',
      params: idParams,
      response: { 202: deliveryDto, 404: problemSchema.describe('WEBHOOK_DELIVERY_NOT_FOUND') },
    },
    handler: async (req, reply) =>
      reply.status(202).send(toDeliveryDto(await webhooks.redeliver(principalOf(req), req.params.id))),
  });
}
