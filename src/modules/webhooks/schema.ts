// What the webhook routes take and answer, and the events an endpoint may ask for.
import { z } from 'zod';
import { CHANNEL_EVENTS } from '../channels/index.ts';
import { VIDEO_EVENTS } from '../videos/index.ts';

/**
 * The events delivered to webhooks: the catalog's (videos and channels). Each payload must carry
 * `owner_id`.
 */
export const WEBHOOK_EVENTS = [...VIDEO_EVENTS, ...CHANNEL_EVENTS];
export const WEBHOOK_EVENT_TYPES = WEBHOOK_EVENTS.map((e) => e.type) as [string, ...string[]];

const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, 'list each event type once');
const url = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2048);
const description = z.string().trim().max(500);

export const endpointScope = z.enum(['user', 'instance']);

export const createEndpointBody = z.object({
  url,
  event_types: eventTypes,
  description: description.default(''),
  enabled: z.boolean().default(true),
  scope: endpointScope.default('user').describe('`instance` (administrators only): every video'),
});
export type CreateEndpointInput = z.infer<typeof createEndpointBody>;

export const updateEndpointBody = z
  .object({
    url: url.optional(),
    event_types: eventTypes.optional(),
    description: description.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: 'give at least one of url, event_types, description, enabled',
    path: ['url'],
  });
export type UpdateEndpointInput = z.infer<typeof updateEndpointBody>;

export const endpointDto = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    scope: endpointScope,
    url: z.string(),
    description: z.string(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    previous_secret_expires_at: z.iso
      .datetime()
      .nullable()
      .describe('While set, deliveries are signed with the previous secret too'),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const endpointWithSecretDto = endpointDto
  .extend({ secret: z.string().describe('Shown only now: signs every delivery (Vireo-Signature)') })
  .meta({ id: 'WebhookEndpointWithSecret' });

export const attemptDto = z.object({
  id: z.uuid(),
  manual: z.boolean(),
  started_at: z.iso.datetime(),
  duration_ms: z.number().int(),
  response_status: z.number().int().nullable(),
  error: z.string().nullable(),
  response_snippet: z.string().nullable().describe('The first KiB of the answer'),
});

export const deliveryDto = z
  .object({
    id: z.uuid(),
    endpoint_id: z.uuid(),
    event_id: z.uuid(),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempt_count: z.number().int(),
    next_attempt_at: z.iso.datetime().nullable(),
    delivered_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    attempts: z.array(attemptDto),
  })
  .meta({ id: 'WebhookDelivery' });
