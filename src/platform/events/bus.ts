// The composition root's handle on domain events: emit in a transaction, subscribe by name, and the
// relay that delivers to subscribers (and to NATS JetStream when configured) started and stopped with
// the app.
import type { Db, Tx } from '../db/database.ts';
import type { Logger } from '../observability/logger.ts';
import { emit } from './emit.ts';
import {
  assertPattern,
  type DeliveredEvent,
  type EventDefinition,
  EventError,
  likePattern,
} from './event.ts';
import { type JetStreamOptions, JetStreamPublisher } from './jetstream-publisher.ts';
import { Relay, type Subscription } from './relay.ts';

const NAME = /^[a-z][a-z0-9_.-]*$/;

export type EventHandler<P> = (event: DeliveredEvent<P>, ctx: { tx: Tx }) => Promise<void> | void;

export interface SubscribeOptions {
  /**
   * Where a subscriber seen for the first time starts: `oldest` (default), the oldest event still kept;
   * `latest`, events committed from now on.
   */
  from?: 'oldest' | 'latest';
}

export interface EventBusOptions {
  /** The app's database: prune() uses it on a node that does not relay. */
  db: Db;
  /** For the relay's own connections: the leader lock and LISTEN, and the leader's delivery pool. */
  databaseUrl: string;
  logger: Logger;
  /** Also relay every event to NATS JetStream. */
  nats?: JetStreamOptions;
  pollIntervalMs?: number;
  retentionHours?: number;
  batchSize?: number;
  pruneIntervalMs?: number;
  /** How long stop() waits for handlers still running. */
  stopTimeoutMs?: number;
}

export interface EventBus {
  emit: typeof emit;
  /**
   * Registers a named subscriber, before start(). The handler runs on the node that relays, for each
   * event in order per aggregate, at least once: write through `ctx.tx` (the transaction that records
   * the subscriber's progress) and its effects happen exactly once. A handler that throws is retried
   * with backoff, and the subscriber's later events wait: keep handlers quick and idempotent.
   */
  subscribe<P>(
    event: EventDefinition<P>,
    name: string,
    handler: EventHandler<P>,
    opts?: SubscribeOptions,
  ): void;
  subscribe(pattern: string, name: string, handler: EventHandler<unknown>, opts?: SubscribeOptions): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Deletes the events retention no longer keeps (the relay does it every few minutes itself). */
  prune(): Promise<number>;
  /** Whether this process relays now. */
  readonly leading: boolean;
}

export function createEventBus(opts: EventBusOptions): EventBus {
  const subscriptions: Subscription[] = [];
  let relay: Relay | undefined;
  let publisher: JetStreamPublisher | undefined;
  let started = false;

  const add = (s: Subscription) => {
    if (started) throw new EventError(`subscriber "${s.name}" added after the event bus started`);
    if (subscriptions.some((x) => x.name === s.name)) {
      throw new EventError(`subscriber "${s.name}" is registered twice`);
    }
    subscriptions.push(s);
  };

  const relayOf = () => {
    if (!relay) {
      relay = new Relay(
        {
          db: opts.db,
          databaseUrl: opts.databaseUrl,
          logger: opts.logger.child({ area: 'vireo:events' }),
          pollIntervalMs: opts.pollIntervalMs ?? 1000,
          retentionMs: (opts.retentionHours ?? 72) * 3_600_000,
          batchSize: opts.batchSize ?? 500,
          pruneIntervalMs: opts.pruneIntervalMs ?? 600_000,
        },
        subscriptions,
      );
    }
    return relay;
  };

  return {
    emit,
    subscribe(
      target: string | EventDefinition<unknown>,
      name: string,
      handler: EventHandler<unknown>,
      subscribeOpts: SubscribeOptions = {},
    ) {
      if (!NAME.test(name))
        throw new EventError(`bad subscriber name "${name}": use a-z, 0-9, "_", "." and "-"`);
      const pattern = typeof target === 'string' ? target : target.type;
      assertPattern(pattern);
      // Payloads are checked again on the way out, so a subscriber gets the types its schema declares.
      const parse = typeof target === 'string' ? (p: unknown) => p : (p: unknown) => target.payload.parse(p);
      add({
        name,
        pattern,
        like: likePattern(pattern),
        from: subscribeOpts.from ?? 'oldest',
        async deliver(events, tx) {
          for (const e of events) {
            const { cursor: _, ...event } = e;
            await handler({ ...event, payload: parse(e.payload) }, { tx });
          }
        },
      });
    },
    async start() {
      if (started) return;
      if (opts.nats) {
        const p = new JetStreamPublisher(opts.nats, opts.logger.child({ area: 'vireo:events' }));
        publisher = p;
        add({
          name: `nats:${opts.nats.stream}`,
          pattern: '*',
          like: '%',
          from: 'oldest',
          deliver: (events) => p.publish(events),
        });
      }
      started = true;
      await relayOf().start();
    },
    async stop() {
      const finished = await relay?.stop(opts.stopTimeoutMs ?? 10_000);
      if (finished === false) opts.logger.warn('event handlers still running at shutdown were left behind');
      await publisher?.close();
    },
    prune: () => relayOf().prune(),
    get leading() {
      return relay?.leading ?? false;
    },
  };
}
