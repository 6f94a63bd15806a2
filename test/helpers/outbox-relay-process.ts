// A relay in a process of its own, for tests that kill it: its subscriber "recorder" writes each event
// into outbox_received in the transaction that records its progress, slowly enough that a kill lands
// in the middle of a batch. Prints "leading" once it relays.
//   OUTBOX_TEST_DB=postgres://… OUTBOX_TEST_DELAY_MS=5 node --import tsx test/helpers/outbox-relay-process.ts
import { sql } from 'kysely';
import { createDatabase } from '../../src/platform/db/database.ts';
import { createEventBus } from '../../src/platform/events/bus.ts';
import { createLogger } from '../../src/platform/observability/logger.ts';

const url = process.env.OUTBOX_TEST_DB;
if (!url) throw new Error('OUTBOX_TEST_DB is not set');
const delayMs = Number(process.env.OUTBOX_TEST_DELAY_MS ?? 0);
const database = createDatabase(url, 4);
const bus = createEventBus({
  db: database.db,
  databaseUrl: url,
  logger: createLogger(process.env.VIREO_TEST_LOG ?? 'silent'),
  pollIntervalMs: 100,
  batchSize: Number(process.env.OUTBOX_TEST_BATCH ?? 20),
});
bus.subscribe('*', 'recorder', async (event, { tx }) => {
  await sql`
    insert into outbox_received (event_id, aggregate_id, n, pid)
    values (${event.id}, ${event.aggregate.id}, ${(event.payload as { n: number }).n}, ${process.pid})`.execute(
    tx,
  );
  if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
});
await bus.start();
while (!bus.leading) await new Promise((r) => setTimeout(r, 20));
console.log('leading');
process.on('SIGTERM', () => {
  void bus
    .stop()
    .then(() => database.close())
    .then(() => process.exit(0));
});
