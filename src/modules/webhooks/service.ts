// Webhook rules: who owns which endpoint, which endpoints hear an event, and how a delivery is
// attempted, signed, logged and retried.
import { uuidv7 } from 'uuidv7';
import type { Db, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import type { DeliveredEvent } from '../../platform/events/event.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import {
  AddressRefusedError,
  type ResolvedAddress,
  resolvePublicAddress,
} from '../../platform/http/outbound-address.ts';
import { type SendResult, send } from '../../platform/http/outbound-post.ts';
import type { JobOutcome } from '../../platform/jobs/definition.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { deliverWebhook } from './jobs.ts';
import {
  type AttemptRow,
  attemptsOf,
  type DeliveryRow,
  deleteEndpoint,
  deliveryById,
  type EndpointRow,
  endpointById,
  insertDeliveries,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  matchingEndpoints,
  recordAttempt,
  rotateSecret,
  updateEndpoint,
} from './repo.ts';
import { nextAttemptAt } from './retry-schedule.ts';
import type { CreateEndpointInput, UpdateEndpointInput } from './schema.ts';
import { WEBHOOK_EVENT_TYPES } from './schema.ts';
import { newSecret, signatureHeader } from './signature.ts';

const DAY_MS = 86_400_000;
const TIMEOUT_MS = 10_000;
const DELIVERED_TYPES = new Set<string>(WEBHOOK_EVENT_TYPES);

export interface WebhooksOptions {
  allowPrivateNetworks: boolean;
  retryBaseMs: number;
}

export class WebhooksService {
  constructor(
    private readonly db: Db,
    private readonly opts: WebhooksOptions,
    private readonly logger: Logger,
  ) {}

  async create(
    principal: Principal,
    input: CreateEndpointInput,
  ): Promise<{ endpoint: EndpointRow; secret: string }> {
    if (input.scope === 'instance' && principal.role !== 'admin') {
      throw new DomainError('ADMIN_REQUIRED', 'Only an administrator may add instance endpoints', {
        fields: [{ field: 'scope', message: 'instance endpoints are for administrators' }],
      });
    }
    await resolveEndpoint(input.url, this.opts.allowPrivateNetworks);
    const secret = newSecret();
    const endpoint = await insertEndpoint(this.db, {
      id: uuidv7(),
      owner_id: principal.userId,
      scope: input.scope,
      url: input.url,
      description: input.description,
      event_types: input.event_types,
      enabled: input.enabled,
      secret,
    });
    return { endpoint, secret };
  }

  async list(principal: Principal, page: { limit: number; beforeId?: string }): Promise<EndpointRow[]> {
    return listEndpoints(this.db, {
      ownerId: principal.userId,
      instance: principal.role === 'admin',
      ...page,
    });
  }

  /** The endpoint, if the caller may manage it (its owner; any administrator for instance ones). */
  async get(principal: Principal, id: string): Promise<EndpointRow> {
    const endpoint = await endpointById(this.db, id);
    const mine =
      endpoint &&
      (endpoint.owner_id === principal.userId ||
        (endpoint.scope === 'instance' && principal.role === 'admin'));
    if (!mine) throw new DomainError('WEBHOOK_ENDPOINT_NOT_FOUND');
    return endpoint;
  }

  async update(principal: Principal, id: string, patch: UpdateEndpointInput): Promise<EndpointRow> {
    await this.get(principal, id);
    if (patch.url !== undefined) await resolveEndpoint(patch.url, this.opts.allowPrivateNetworks);
    return updateEndpoint(this.db, id, patch);
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.get(principal, id);
    await deleteEndpoint(this.db, id);
  }

  /** A new secret; the old one keeps signing (a second v1) for 24 h, so receivers can switch over. */
  async rotate(principal: Principal, id: string): Promise<{ endpoint: EndpointRow; secret: string }> {
    await this.get(principal, id);
    const secret = newSecret();
    const endpoint = await rotateSecret(this.db, id, secret, new Date(Date.now() + DAY_MS));
    return { endpoint, secret };
  }

  async deliveries(
    principal: Principal,
    endpointId: string,
    page: { limit: number; beforeId?: string },
  ): Promise<Array<DeliveryRow & { log: AttemptRow[] }>> {
    await this.get(principal, endpointId);
    const rows = await listDeliveries(this.db, { endpointId, ...page });
    const attempts = await attemptsOf(
      this.db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({ ...r, log: attempts.filter((a) => a.delivery_id === r.id) }));
  }

  /** One more attempt, now, whatever the delivery's state. */
  async redeliver(principal: Principal, deliveryId: string): Promise<DeliveryRow & { log: AttemptRow[] }> {
    const delivery = await deliveryById(this.db, deliveryId);
    if (!delivery) throw new DomainError('WEBHOOK_DELIVERY_NOT_FOUND');
    await this.get(principal, delivery.endpoint_id).catch(() => {
      throw new DomainError('WEBHOOK_DELIVERY_NOT_FOUND');
    });
    await enqueue(this.db, deliverWebhook, { delivery_id: delivery.id, manual: true });
    return { ...delivery, log: await attemptsOf(this.db, [delivery.id]) };
  }

  /** Outbox subscriber: a delivery (and its first attempt) for each endpoint that hears this event. */
  async fanOut(tx: Tx, event: DeliveredEvent): Promise<void> {
    if (!DELIVERED_TYPES.has(event.type)) return;
    const payload = event.payload as { owner_id?: string };
    const endpointIds = await matchingEndpoints(tx, event.type, payload.owner_id, event.occurredAt);
    const made = await insertDeliveries(
      tx,
      endpointIds.map((endpointId) => ({
        id: uuidv7(),
        endpoint_id: endpointId,
        event_id: event.id,
        event_type: event.type,
        payload: {
          id: event.id,
          type: event.type,
          created_at: event.occurredAt.toISOString(),
          data: event.payload,
        },
        status: 'pending' as const,
        retry_until: new Date(event.occurredAt.getTime() + DAY_MS),
        next_attempt_at: new Date(),
      })),
    );
    for (const id of made) {
      await enqueue(tx, deliverWebhook, { delivery_id: id, manual: false }, { jobKey: `webhook:${id}` });
    }
  }

  /** The job: one attempt, logged; then delivered, another attempt scheduled, or failed for good. */
  async attempt(deliveryId: string, manual: boolean): Promise<JobOutcome> {
    const delivery = await deliveryById(this.db, deliveryId);
    if (!delivery || (!manual && delivery.status !== 'pending')) return 'skipped';
    const endpoint = await endpointById(this.db, delivery.endpoint_id);
    if (!endpoint) return 'skipped';
    const startedAt = new Date();
    const result = endpoint.enabled || manual ? await this.post(endpoint, delivery) : disabled();
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    let status = delivery.status;
    let next: Date | null = delivery.next_attempt_at;
    if (ok) {
      status = 'delivered';
      next = null;
    } else if (!manual) {
      next = endpoint.enabled
        ? nextAttemptAt(delivery.attempts + 1, this.opts.retryBaseMs, delivery.retry_until)
        : null;
      status = next ? 'pending' : 'failed';
    }
    await this.db.transaction().execute(async (tx) => {
      await recordAttempt(
        tx,
        {
          id: uuidv7(),
          delivery_id: delivery.id,
          manual,
          started_at: startedAt,
          duration_ms: result.durationMs,
          response_status: result.status,
          error: result.error,
          response_snippet: result.snippet,
        },
        { status, next_attempt_at: next, delivered: ok },
      );
      if (!ok && !manual && next) {
        await enqueue(
          tx,
          deliverWebhook,
          { delivery_id: delivery.id, manual: false },
          { runAt: next, jobKey: `webhook:${delivery.id}` },
        );
      }
    });
    return 'done';
  }

  private async post(endpoint: EndpointRow, delivery: DeliveryRow): Promise<SendResult> {
    const started = performance.now();
    let to: ResolvedAddress;
    try {
      // Checked again at each attempt: the name may resolve elsewhere since the endpoint was made.
      to = await resolveEndpoint(endpoint.url, this.opts.allowPrivateNetworks);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return {
        status: null,
        error: err.message,
        snippet: null,
        durationMs: Math.round(performance.now() - started),
      };
    }
    const p = delivery.payload as { id: string; type: string; created_at: string; data: unknown };
    // Built in this order on purpose: jsonb keeps keys in an order of its own.
    const body = JSON.stringify({ id: p.id, type: p.type, created_at: p.created_at, data: p.data });
    const secrets = [endpoint.secret];
    if (
      endpoint.previous_secret &&
      endpoint.previous_secret_expires_at &&
      endpoint.previous_secret_expires_at > new Date()
    ) {
      secrets.push(endpoint.previous_secret);
    }
    const result = await send(
      endpoint.url,
      to,
      {
        'content-type': 'application/json',
        'user-agent': 'Vireo-Webhooks/1',
        'vireo-signature': signatureHeader(secrets, Math.floor(Date.now() / 1000), body),
        'vireo-event-id': p.id,
        'vireo-event-type': p.type,
        'vireo-delivery-id': delivery.id,
      },
      body,
      TIMEOUT_MS,
    );
    if (result.status === null || result.status >= 300) {
      this.logger.info(
        { delivery: delivery.id, endpoint: endpoint.id, status: result.status, error: result.error },
        'webhook attempt failed',
      );
    }
    return result;
  }
}

/** The address to deliver to, once checked; WEBHOOK_URL_FORBIDDEN for a URL webhooks may not reach. */
async function resolveEndpoint(url: string, allowPrivate: boolean): Promise<ResolvedAddress> {
  try {
    return await resolvePublicAddress(url, { allowPrivate });
  } catch (err) {
    if (!(err instanceof AddressRefusedError)) throw err;
    throw new DomainError('WEBHOOK_URL_FORBIDDEN', err.message, {
      fields: [{ field: 'url', message: err.message }],
    });
  }
}

function disabled(): SendResult {
  return { status: null, error: 'the endpoint is disabled', snippet: null, durationMs: 0 };
}
