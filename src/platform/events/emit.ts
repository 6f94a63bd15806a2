import type { Tx } from '../db/database.ts';
import { assertType, EventError, type NewEvent } from './event.ts';
import { insertEvent } from './outbox-store.ts';

/**
 * Writes an event in the caller's transaction: it exists, and is delivered, only if the transaction
 * commits. Build it with an event definition's `create()`. Answers the event's id.
 */
export async function emit(tx: Tx, event: NewEvent): Promise<string> {
  // The type says so too, but a Kysely instance passed where a transaction belongs would still run.
  if (!tx.isTransaction) throw new EventError('emit() needs the transaction of the change');
  assertType(event.type);
  if (!event.aggregate.type || !event.aggregate.id)
    throw new EventError('an event needs an aggregate type and id');
  await insertEvent(tx, event);
  return event.id;
}
