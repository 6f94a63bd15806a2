// The relay's own connection, outside the pool: it holds the leader lock (a session advisory lock, so
// the server releases it when the process or its machine dies) and listens for commits with events.
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import { OUTBOX_CHANNEL } from './outbox-store.ts';

/** Key of the leader lock (a session advisory lock): (NS, 0), NS spelling "outb". */
const LOCK_NAMESPACE = 0x6f757462;

export class LeaderConnection {
  private client?: pg.Client;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly on: { notification(type: string): void; lost(): void },
  ) {}

  /** Takes the leader lock if no other session holds it; answers whether this one holds it now. */
  async tryLead(): Promise<boolean> {
    const client = this.client ?? (await this.open());
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, 0) as ok', [
      LOCK_NAMESPACE,
    ]);
    return rows[0]!.ok;
  }

  /** Ends the session, which releases the lock. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true });
    let gone = false;
    const drop = (err?: Error) => {
      if (gone) return;
      gone = true;
      if (this.client === client) {
        this.client = undefined;
        if (err) this.logger.warn({ err }, 'outbox relay connection lost');
        this.on.lost();
      }
    };
    client.on('error', drop);
    client.on('end', () => drop());
    client.on('notification', (msg) => {
      if (msg.payload) this.on.notification(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
    } catch (err) {
      gone = true;
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    return client;
  }
}
