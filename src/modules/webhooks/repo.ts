// SQL for webhook endpoints, deliveries and attempts; the only code that writes these tables.
import { type Generated, type Selectable, sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';

type EndpointTable = {
  id: string;
  owner_id: string;
  scope: 'user' | 'instance';
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
};

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

type DeliveryTable = {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  payload: unknown;
  status: DeliveryStatus;
  attempts: Generated<number>;
  retry_until: Date;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Generated<Date>;
};

type AttemptTable = {
  id: string;
  delivery_id: string;
  manual: boolean;
  started_at: Date;
  duration_ms: number;
  response_status: number | null;
  error: string | null;
  response_snippet: string | null;
};

type WebhookTables = {
  webhook_endpoints: EndpointTable;
  webhook_deliveries: DeliveryTable;
  webhook_attempts: AttemptTable;
};

export type EndpointRow = Selectable<EndpointTable>;
export type DeliveryRow = Selectable<DeliveryTable>;
export type AttemptRow = Selectable<AttemptTable>;

const q = (db: DbOrTx) => db.withTables<WebhookTables>();

export async function insertEndpoint(
  db: DbOrTx,
  row: Omit<EndpointRow, 'created_at' | 'updated_at' | 'previous_secret' | 'previous_secret_expires_at'>,
): Promise<EndpointRow> {
  return q(db).insertInto('webhook_endpoints').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function endpointById(db: DbOrTx, id: string): Promise<EndpointRow | undefined> {
  return q(db).selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The owner's endpoints, and with `instance` every instance endpoint too; newest first. */
export async function listEndpoints(
  db: DbOrTx,
  opts: { ownerId: string; instance: boolean; limit: number; beforeId?: string },
): Promise<EndpointRow[]> {
  let query = q(db)
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where((eb) =>
      opts.instance
        ? eb.or([eb('owner_id', '=', opts.ownerId), eb('scope', '=', 'instance')])
        : eb('owner_id', '=', opts.ownerId),
    )
    .orderBy('id', 'desc')
    .limit(opts.limit);
  if (opts.beforeId) query = query.where('id', '<', opts.beforeId);
  return query.execute();
}

export async function updateEndpoint(
  db: DbOrTx,
  id: string,
  patch: Partial<Pick<EndpointRow, 'url' | 'event_types' | 'description' | 'enabled'>>,
): Promise<EndpointRow> {
  return q(db)
    .updateTable('webhook_endpoints')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The current secret becomes the previous one, which keeps signing until `previousUntil`. */
export async function rotateSecret(
  db: DbOrTx,
  id: string,
  secret: string,
  previousUntil: Date,
): Promise<EndpointRow> {
  return q(db)
    .updateTable('webhook_endpoints')
    .set((eb) => ({
      previous_secret: eb.ref('secret'),
      previous_secret_expires_at: previousUntil,
      secret,
      updated_at: new Date(),
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteEndpoint(db: DbOrTx, id: string): Promise<void> {
  await q(db).deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}

/**
 * Enabled endpoints of active accounts that asked for `type` and may hear about `ownerId`'s videos, made
 * before the event.
 */
export async function matchingEndpoints(
  db: DbOrTx,
  type: string,
  ownerId: string | undefined,
  occurredAt: Date,
): Promise<string[]> {
  const rows = await q(db)
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('enabled', '=', true)
    .where((eb) => eb(eb.val(type), '=', eb.fn.any('event_types')))
    .where((eb) =>
      ownerId
        ? eb.or([eb('scope', '=', 'instance'), eb('owner_id', '=', ownerId)])
        : eb('scope', '=', 'instance'),
    )
    .where('created_at', '<=', occurredAt)
    // A hidden or deleted account's endpoints hear nothing (users: read here, owned by accounts).
    .where(sql<boolean>`exists (select 1 from users u
      where u.id = webhook_endpoints.owner_id and u.status = 'active')`)
    .execute();
  return rows.map((r) => r.id);
}

/** Answers the ids of the deliveries made: one already made for its endpoint and event is skipped. */
export async function insertDeliveries(
  db: DbOrTx,
  rows: Omit<DeliveryRow, 'attempts' | 'created_at' | 'last_attempt_at' | 'delivered_at'>[],
): Promise<string[]> {
  if (!rows.length) return [];
  const made = await q(db)
    .insertInto('webhook_deliveries')
    // biome-ignore lint/suspicious/noExplicitAny: pg takes jsonb as a JSON string
    .values(rows.map((r) => ({ ...r, payload: JSON.stringify(r.payload) as any })))
    .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
    .returning('id')
    .execute();
  return made.map((r) => r.id);
}

export async function deliveryById(db: DbOrTx, id: string): Promise<DeliveryRow | undefined> {
  return q(db).selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function recordAttempt(
  db: DbOrTx,
  attempt: AttemptRow,
  delivery: Pick<DeliveryRow, 'status' | 'next_attempt_at'> & { delivered: boolean },
): Promise<void> {
  await q(db).insertInto('webhook_attempts').values(attempt).execute();
  await q(db)
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status: delivery.status,
      next_attempt_at: delivery.next_attempt_at,
      attempts: eb('attempts', '+', 1),
      last_attempt_at: attempt.started_at,
      ...(delivery.delivered ? { delivered_at: new Date() } : {}),
    }))
    .where('id', '=', attempt.delivery_id)
    .execute();
}

export async function listDeliveries(
  db: DbOrTx,
  opts: { endpointId: string; limit: number; beforeId?: string },
): Promise<DeliveryRow[]> {
  let query = q(db)
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', opts.endpointId)
    .orderBy('id', 'desc')
    .limit(opts.limit);
  if (opts.beforeId) query = query.where('id', '<', opts.beforeId);
  return query.execute();
}

export async function attemptsOf(db: DbOrTx, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (!deliveryIds.length) return [];
  return q(db)
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('started_at')
    .orderBy('id')
    .execute();
}
