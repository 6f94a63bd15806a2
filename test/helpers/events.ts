// Waits until every event committed so far has reached its subscribers: what follows from a change in
// another module (a job enqueued, an access epoch moved) happens after the relay delivers its event.
import { outboxLag } from '../../src/platform/events/lag.ts';
import type { TestApp } from './app.ts';

export async function eventsDelivered(t: TestApp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await outboxLag(t.app.database.db)).pending > 0) {
    if (Date.now() > deadline) throw new Error(`events still undelivered after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
