// Outbox lag for /metrics: how far behind the subscribers (the NATS relay included) are.
import client from 'prom-client';
import type { DbOrTx } from '../db/database.ts';
import { LAG_SCAN_LIMIT, type OutboxLag, readLag } from './outbox-store.ts';

export type { OutboxLag, SubscriberLag } from './outbox-store.ts';

export function outboxLag(db: DbOrTx): Promise<OutboxLag> {
  return readLag(db);
}

/** Gauges read from the database at scrape time: one reading per scrape feeds them all. */
export function registerOutboxMetrics(registry: client.Registry, db: DbOrTx): void {
  let reading: Promise<OutboxLag | undefined> | undefined;
  // The gauges of one scrape are collected together and share one reading. A failed reading leaves
  // them as they were: the rest of /metrics must still answer while the database does not.
  const lag = () => {
    reading ??= readLag(db)
      .catch(() => undefined)
      .finally(() => setImmediate(() => (reading = undefined)));
    return reading;
  };
  new client.Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest outbox event some subscriber has not received yet (0 when none)',
    registers: [registry],
    async collect() {
      const l = await lag();
      if (l) this.set(l.oldestSeconds);
    },
  });
  new client.Gauge({
    name: 'outbox_pending_events',
    help: `Outbox events some subscriber has not received yet (counted up to ${LAG_SCAN_LIMIT})`,
    registers: [registry],
    async collect() {
      const l = await lag();
      if (l) this.set(l.pending);
    },
  });
  new client.Gauge({
    name: 'outbox_subscriber_lag_seconds',
    help: 'Age of the oldest outbox event the subscriber has not received yet (0 when none)',
    labelNames: ['subscriber'] as const,
    registers: [registry],
    async collect() {
      const l = await lag();
      if (!l) return;
      this.reset();
      for (const s of l.subscribers) this.set({ subscriber: s.name }, s.oldestSeconds);
    },
  });
  new client.Gauge({
    name: 'outbox_subscriber_pending_events',
    help: `Outbox events the subscriber has not received yet (counted up to ${LAG_SCAN_LIMIT})`,
    labelNames: ['subscriber'] as const,
    registers: [registry],
    async collect() {
      const l = await lag();
      if (!l) return;
      this.reset();
      for (const s of l.subscribers) this.set({ subscriber: s.name }, s.pending);
    },
  });
}
