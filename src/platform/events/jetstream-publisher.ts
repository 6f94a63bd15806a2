// The outbox's way out of the process: events published to NATS JetStream, on a subject named after the
// event type (`video.uploaded`), in a stream that the publisher creates and widens as new kinds of
// aggregate appear (`video.>`). The event id is the message id (`Nats-Msg-Id`), so JetStream drops the
// copies a relay publishes again after a crash (within the stream's duplicate window, 2 minutes).
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../observability/logger.ts';
import type { StoredEvent } from './outbox-store.ts';

export interface JetStreamOptions {
  /** One server URL, or several separated by commas. */
  url: string;
  stream: string;
  /** Put before every subject (`site1` gives `site1.video.uploaded`); absent: none. */
  subjectPrefix?: string;
  publishTimeoutMs?: number;
}

/** The JSON body of a message; snake_case like the HTTP API. */
export function encodeEvent(event: StoredEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    aggregate: event.aggregate,
    payload: event.payload,
    occurred_at: event.occurredAt.toISOString(),
    request_id: event.requestId ?? null,
  });
}

export class JetStreamPublisher {
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;
  private connecting?: Promise<void>;
  private covered = new Set<string>();
  private readonly prefix: string;

  constructor(
    private readonly opts: JetStreamOptions,
    private readonly logger: Logger,
  ) {
    this.prefix = opts.subjectPrefix ? `${opts.subjectPrefix}.` : '';
  }

  subject(type: string): string {
    return `${this.prefix}${type}`;
  }

  /**
   * Publishes a batch and resolves once JetStream has stored all of it. Events of one aggregate go one
   * after the other, each after the previous one's acknowledgement, so a failure cannot store a later
   * one before an earlier one; different aggregates go side by side.
   */
  async publish(events: StoredEvent[]): Promise<void> {
    await this.connect();
    await this.cover(events);
    const chains = new Map<string, StoredEvent[]>();
    for (const e of events) {
      const key = `${e.aggregate.type}\u0000${e.aggregate.id}`;
      const chain = chains.get(key);
      if (chain) chain.push(e);
      else chains.set(key, [e]);
    }
    const js = this.js!;
    const timeout = this.opts.publishTimeoutMs ?? 5000;
    // Settled, not all(): a retry must not start while this attempt still publishes.
    const results = await Promise.allSettled(
      [...chains.values()].map(async (chain) => {
        for (const e of chain) {
          await js.publish(this.subject(e.type), encodeEvent(e), {
            msgID: e.id,
            timeout,
            expect: { streamName: this.opts.stream },
          });
        }
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.connecting = undefined;
    await nc?.close().catch(() => {});
  }

  private connect(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) return Promise.resolve();
    this.connecting ??= (async () => {
      try {
        const nc = await connect({
          servers: this.opts.url.split(',').map((s) => s.trim()),
          name: 'vireo-outbox',
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
        });
        this.jsm = await jetstreamManager(nc);
        this.js = jetstream(nc);
        this.nc = nc;
        this.covered = new Set();
        this.logger.info({ stream: this.opts.stream }, 'connected to NATS JetStream');
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /** Makes the stream take the subjects of these events: `<prefix><aggregate kind>.>`. */
  private async cover(events: StoredEvent[]): Promise<void> {
    const wanted = new Set(events.map((e) => `${this.prefix}${e.type.slice(0, e.type.indexOf('.'))}.>`));
    if ([...wanted].every((s) => this.covered.has(s))) return;
    const jsm = this.jsm!;
    const info = await jsm.streams.info(this.opts.stream).catch((err: Error) => {
      if (err.name === 'StreamNotFoundError') return undefined;
      throw err;
    });
    const subjects = new Set(info?.config.subjects ?? []);
    const missing = [...wanted].filter((s) => !subjects.has(s));
    if (!info) {
      await jsm.streams.add({ name: this.opts.stream, subjects: [...wanted] });
      this.logger.info({ stream: this.opts.stream, subjects: [...wanted] }, 'JetStream stream created');
    } else if (missing.length) {
      await jsm.streams.update(this.opts.stream, { subjects: [...subjects, ...missing] });
      this.logger.info({ stream: this.opts.stream, subjects: missing }, 'JetStream stream widened');
    }
    for (const s of [...subjects, ...wanted]) this.covered.add(s);
  }
}
