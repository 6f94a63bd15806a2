// Delivers committed outbox events to each subscription, in order, at least once. One node relays at a
// time: the one holding the leader lock; the others try again every poll interval and take over within
// about one when the leader dies. Each subscription has its own loop and cursor, so a slow or new one
// holds back no other. A batch is delivered in one transaction that also moves the cursor (only from
// where the batch was read): a handler that writes through that transaction takes effect exactly once,
// and two relays overlapping (a leader cut off from the database while another takes over) cannot
// commit the same batch twice or out of order.
import { setMaxListeners } from 'node:events';
import { createDatabase, type Database, type Db, type Tx } from '../db/database.ts';
import type { Logger } from '../observability/logger.ts';
import { matches } from './event.ts';
import { LeaderConnection } from './leader-connection.ts';
import {
  after,
  type Cursor,
  markAsleep,
  markAwake,
  prune,
  readBatch,
  readHead,
  readNewTypes,
  registerSubscription,
  type StoredEvent,
  saveCursor,
} from './outbox-store.ts';

export interface Subscription {
  name: string;
  /** Event type or `prefix*`. */
  pattern: string;
  /** The same as a LIKE pattern. */
  like: string;
  /** Where a subscription seen for the first time starts. */
  from: 'oldest' | 'latest';
  deliver(events: StoredEvent[], tx: Tx): Promise<void>;
}

export interface RelayOptions {
  /** Used while not leading (prune() from a test); the leader has connections of its own. */
  db: Db;
  databaseUrl: string;
  logger: Logger;
  /** Look for events this often without a notification; a standby node tries to lead this often. */
  pollIntervalMs: number;
  /** Delivered events are kept this long. */
  retentionMs: number;
  /** Events per delivery transaction. */
  batchSize: number;
  pruneIntervalMs: number;
}

/** While committed events wait on an older transaction, look again this soon, doubling up to the interval. */
const HELD_RETRY_MS = 2;
const MAX_BACKOFF_MS = 30_000;
/**
 * While events flow, the relay looks this often instead of being woken by NOTIFY (which makes the
 * emitting transactions commit one at a time), and keeps doing so until AWAKE_MS after the last event.
 * One watcher looks at the end of the outbox and wakes the subscriptions whose pattern the new events
 * match; each subscription also looks for itself every AWAKE_FALLBACK_MS, for events committed late below
 * the end the watcher already saw.
 */
const AWAKE_POLL_MS = 10;
const AWAKE_FALLBACK_MS = 100;
const AWAKE_MS = 1000;
/** A subscription with nothing new saves its cursor (moved up to the horizon) at most this often. */
const IDLE_SAVE_MS = 200;

class CursorMoved extends Error {
  constructor(subscription: string) {
    super(`the cursor of "${subscription}" moved while its batch was delivered`);
  }
}

/** A wake-up that is not lost when it comes while nobody waits. */
class Wake {
  private pending = false;
  private waiter?: () => void;

  notify(): void {
    this.pending = true;
    this.waiter?.();
  }

  /** Forgets wake-ups so far: call before looking, so one arriving during the look is kept. */
  clear(): void {
    this.pending = false;
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.waiter = done;
    });
  }
}

const sleep = (ms: number, signal: AbortSignal) => new Wake().wait(ms, signal);

export class Relay {
  private readonly log: Logger;
  private readonly connection: LeaderConnection;
  private readonly wakes = new Map<string, Wake>();
  /** Wakes the watcher when the relay becomes awake. */
  private readonly watcherWake = new Wake();
  private stopped = new AbortController();
  /** Aborted when the current term as leader ends (lock connection lost, or stop). */
  private term?: AbortController;
  private running?: Promise<void>;
  private leadingNow = false;
  /** Local time until which emitters may skip their NOTIFY (set only once the database says so). */
  private awakeUntil = 0;
  private wakingUp = false;
  /**
   * The leader's own connections: a relay that queued behind the app's requests for a pooled connection
   * would fall behind exactly when events come fastest. One per subscription, so a handler that hangs
   * holds back no other, and one for the rest.
   */
  private own?: Database;

  constructor(
    private readonly opts: RelayOptions,
    private readonly subscriptions: Subscription[],
  ) {
    this.log = opts.logger;
    this.connection = new LeaderConnection(opts.databaseUrl, this.log, {
      notification: (type) => {
        for (const s of this.subscriptions) if (matches(s.pattern, type)) this.wakes.get(s.name)?.notify();
        this.keepAwake();
      },
      lost: () => this.term?.abort(),
    });
    for (const s of subscriptions) this.wakes.set(s.name, new Wake());
  }

  get leading(): boolean {
    return this.leadingNow;
  }

  private get db(): Db {
    return this.own?.db ?? this.opts.db;
  }

  private get awake(): boolean {
    return Date.now() < this.awakeUntil;
  }

  /** Events flow: poll for a while, and tell emitters so once the database has it. */
  private keepAwake(): void {
    if (this.wakingUp || !this.leadingNow || this.awakeUntil - Date.now() > AWAKE_MS / 2) return;
    this.wakingUp = true;
    markAwake(this.db, AWAKE_MS)
      // Measured from after the update: the database's deadline has passed by the time the local one has.
      .then(() => {
        if (!this.leadingNow) return;
        const wasAwake = this.awake;
        this.awakeUntil = Date.now() + AWAKE_MS;
        // Loops asleep for the poll interval must poll now: emitters no longer wake them.
        if (!wasAwake) {
          for (const w of this.wakes.values()) w.notify();
          this.watcherWake.notify();
        }
      })
      .catch((err) => this.log.warn({ err }, 'outbox relay could not mark itself awake'))
      .finally(() => {
        this.wakingUp = false;
      });
  }

  /**
   * Resolves after the first attempt to lead (once the subscriptions are registered, when it leads); the
   * relay then keeps going in the background.
   */
  async start(): Promise<void> {
    let attempted!: () => void;
    const first = new Promise<void>((resolve) => (attempted = resolve));
    this.running = this.run(attempted);
    await first;
  }

  /**
   * Finishes the batches being delivered, then lets go of the leader lock. A handler still running
   * after `timeoutMs` is left behind: should it finish once another node relays, its transaction finds
   * the cursor moved and rolls back.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopped.abort();
    this.term?.abort();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      (this.running ?? Promise.resolve()).then(() => true),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    await this.connection.close();
    return finished;
  }

  /** Removes what retention allows now (the leader also does it every prune interval). */
  async prune(): Promise<number> {
    return prune(
      this.db,
      Math.floor(this.opts.retentionMs / 1000),
      this.subscriptions.map((s) => s.name),
    );
  }

  private async run(attempted: () => void): Promise<void> {
    while (!this.stopped.signal.aborted) {
      let lead = false;
      try {
        lead = await this.connection.tryLead();
      } catch (err) {
        this.log.warn({ err }, 'outbox relay could not reach the database; trying again');
      }
      if (lead && !this.stopped.signal.aborted) await this.lead(attempted);
      else {
        attempted();
        await sleep(this.opts.pollIntervalMs, this.stopped.signal);
      }
    }
  }

  /** `ready` is called once the subscriptions are registered (or leading failed). */
  private async lead(ready: () => void): Promise<void> {
    const term = new AbortController();
    // Each subscription's loop waits on this one signal: as many listeners as subscriptions is expected.
    setMaxListeners(0, term.signal);
    this.term = term;
    this.leadingNow = true;
    this.log.info({ subscriptions: this.subscriptions.map((s) => s.name) }, 'outbox relay leading');
    const own = createDatabase(this.opts.databaseUrl, Math.min(16, this.subscriptions.length + 1), (err) =>
      this.log.warn({ err }, 'outbox relay connection error'),
    );
    this.own = own;
    try {
      for (const s of this.subscriptions) await registerSubscription(own.db, s.name, s.like, s.from);
      ready();
      await Promise.all([
        ...this.subscriptions.map((s) => this.serve(s, term.signal)),
        this.watch(term.signal),
        this.prunePeriodically(term.signal),
      ]);
    } catch (err) {
      this.log.error({ err }, 'outbox relay failed; handing over');
    } finally {
      ready();
      this.leadingNow = false;
      this.term = undefined;
      this.awakeUntil = 0;
      // Emitters wake the next leader at once instead of when the mark runs out.
      await markAsleep(own.db).catch(() => {});
      this.own = undefined;
      await own.close().catch((err) => this.log.warn({ err }, 'outbox relay connections did not close'));
      // Closing the session is what releases the lock (when it was not lost already).
      await this.connection.close();
    }
    if (!this.stopped.signal.aborted) await sleep(this.opts.pollIntervalMs, this.stopped.signal);
  }

  private async serve(s: Subscription, signal: AbortSignal): Promise<void> {
    const wake = this.wakes.get(s.name)!;
    let failures = 0;
    let heldWait = 0;
    const idle = { savedAt: 0 };
    while (!signal.aborted) {
      wake.clear();
      let outcome: { count: number; full: boolean; held: boolean };
      try {
        // After a failure, one event at a time: those before the failing one get through.
        outcome = await this.deliverBatch(s, failures ? 1 : this.opts.batchSize, idle);
        failures = 0;
      } catch (err) {
        if (err instanceof CursorMoved) {
          this.log.warn({ subscription: s.name }, 'another outbox relay delivered this batch; reading again');
          continue;
        }
        failures++;
        const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 16));
        this.log.error({ err, subscription: s.name, failures }, 'outbox delivery failed; trying again');
        await sleep(backoff, signal);
        continue;
      }
      if (outcome.count) {
        heldWait = 0;
        this.keepAwake();
      }
      if (outcome.full) continue;
      const longest = this.awake ? AWAKE_FALLBACK_MS : this.opts.pollIntervalMs;
      if (outcome.held) {
        const cap = this.awake ? AWAKE_POLL_MS : this.opts.pollIntervalMs;
        heldWait = Math.min(cap, heldWait ? heldWait * 2 : HELD_RETRY_MS);
        await wake.wait(heldWait, signal);
      } else {
        heldWait = 0;
        await wake.wait(longest, signal);
      }
    }
  }

  private async deliverBatch(
    s: Subscription,
    limit: number,
    idle: { savedAt: number },
  ): Promise<{ count: number; full: boolean; held: boolean }> {
    // Read outside the delivery transaction, which then moves the cursor only from where it was read:
    // a relay overlapping this one (a leader cut off from the database while another took over) makes
    // one of them roll back, its handler's writes with it, so batches stay in order and take effect once.
    const batch = await readBatch(this.db, s.name, limit);
    const count = batch.events.length;
    const full = count === limit;
    // A batch short of the limit took everything below the horizon: the cursor moves up to it, so later
    // looks do not scan events of other types again.
    const next: Cursor = full ? batch.events.at(-1)!.cursor : { txid: batch.horizon, position: 0 };
    if (count) {
      await this.db.transaction().execute(async (tx) => {
        await s.deliver(batch.events, tx);
        if (!(await saveCursor(tx, s.name, batch.cursor, next))) throw new CursorMoved(s.name);
      });
      idle.savedAt = Date.now();
    } else if (after(next, batch.cursor) && Date.now() - idle.savedAt >= IDLE_SAVE_MS) {
      await saveCursor(this.db, s.name, batch.cursor, next);
      idle.savedAt = Date.now();
    }
    return { count, full, held: batch.held && !full };
  }

  /**
   * While awake, one look at the end of the outbox every AWAKE_POLL_MS instead of one per subscription:
   * the subscriptions whose pattern matches a new event's type are woken.
   */
  private async watch(signal: AbortSignal): Promise<void> {
    let head: Cursor | null = null;
    while (!signal.aborted) {
      if (!this.awake) {
        head = null;
        await this.watcherWake.wait(this.opts.pollIntervalMs, signal);
        this.watcherWake.clear();
        continue;
      }
      try {
        if (head === null) head = (await readHead(this.db)) ?? { txid: 0, position: 0 };
        else {
          const seen = await readNewTypes(this.db, head);
          head = seen.head;
          for (const s of this.subscriptions) {
            if (seen.types.some((type) => matches(s.pattern, type))) this.wakes.get(s.name)?.notify();
          }
        }
      } catch (err) {
        this.log.warn({ err }, 'outbox relay could not look at the end of the outbox');
      }
      await sleep(AWAKE_POLL_MS, signal);
    }
  }

  private async prunePeriodically(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const removed = await this.prune();
        if (removed) this.log.info({ removed }, 'outbox pruned');
      } catch (err) {
        this.log.warn({ err }, 'outbox pruning failed');
      }
      await sleep(this.opts.pruneIntervalMs, signal);
    }
  }
}
