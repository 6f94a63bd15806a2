// Cross-node fan-out over PostgreSQL LISTEN/NOTIFY: anything published on any node reaches the
// subscribers of every node (an SSE client may be connected to a node that is not doing the work).
import { sql } from 'kysely';
import pg from 'pg';
import type { DbOrTx } from '../db/database.ts';
import type { Logger } from '../observability/logger.ts';

const CHANNEL = 'vireo_events';

export type Listener = (data: unknown) => void;

export class NotifyHub {
  private client?: pg.Client;
  private readonly topics = new Map<string, Set<Listener>>();
  private readonly resetListeners = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => this.dispatch(msg.payload));
    client.on('error', (err) => {
      this.logger.warn({ err }, 'notify connection lost; reconnecting');
      this.client = undefined;
      this.reset();
      if (!this.stopped) setTimeout(() => this.start().catch(() => {}), 1000).unref();
    });
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
    this.client = client;
    this.reset();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => {});
  }

  /**
   * Called whenever notifications may have been missed (connect, reconnect, connection lost):
   * whoever caches on the strength of notifications must drop its cache then.
   */
  onReset(listener: () => void): void {
    this.resetListeners.add(listener);
  }

  private reset(): void {
    for (const listener of this.resetListeners) listener();
  }

  subscribe(topic: string, listener: Listener): () => void {
    let set = this.topics.get(topic);
    if (!set) {
      set = new Set();
      this.topics.set(topic, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.topics.delete(topic);
    };
  }

  private dispatch(payload: string | undefined): void {
    if (!payload) return;
    try {
      const { topic, data } = JSON.parse(payload) as { topic: string; data: unknown };
      for (const listener of this.topics.get(topic) ?? []) listener(data);
    } catch (err) {
      this.logger.warn({ err }, 'bad notification payload');
    }
  }
}

/** Publishes in the caller's transaction: subscribers hear it only if the transaction commits. */
export async function publish(db: DbOrTx, topic: string, data: unknown): Promise<void> {
  // NOTIFY payloads are limited to 8000 bytes: publish small facts, not documents.
  await sql`select pg_notify(${CHANNEL}, ${JSON.stringify({ topic, data })})`.execute(db);
}
