// Upload locks shared by every node: a tus request holds its upload's lock as a PostgreSQL session-level
// advisory lock, so two nodes behind one load balancer never write one upload at once.
//
// One connection per node holds all the upload locks of that node, rather than one connection per held
// lock: a session may hold any number of advisory locks, and a node receiving 200 uploads would
// otherwise need 200 connections beside its pool. Session locks rather than transaction locks, so no
// transaction stays open for the length of an upload (idle_in_transaction_session_timeout would end it).
// A session re-enters its own locks, so inside the node a table decides which request holds an id;
// only that request takes the PostgreSQL lock. If the connection is lost, PostgreSQL has released every
// lock it held: each holder is asked to stop (tus gives it lockDrainTimeout, 3 s, to end its write: the
// one window in which another node could take the lock early), and the next lock opens a new connection.
//
// tus asks the holder of a lock to let go when another request wants it (the client resumed over a new
// connection; the old request is a half-open one). Across nodes that request travels by NOTIFY on the
// same connection, which also carries "free" back to the waiting node so it need not wait for a poll.
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/server';
import pg from 'pg';
import type { Logger } from '../../platform/observability/logger.ts';

const CHANNEL = 'vireo_upload_locks';

export interface PgLockerOptions {
  url: string;
  logger: Logger;
  /** How long a request waits for a lock before giving up (tus answers 500), as MemoryLocker does. */
  acquireTimeoutMs?: number;
  /** How often a waiting request tries again without having heard that the lock is free. */
  retryMs?: number;
  /** How often a waiting request repeats its release request, in case the holder had not locked yet. */
  askEveryMs?: number;
}

interface Session {
  client: pg.Client;
  lost: boolean;
}

interface Holder {
  requestRelease: RequestRelease;
  /** Set once the PostgreSQL lock is taken, in this session. */
  session?: Session;
  /** A request on another node waits: it hears "free" when this holder lets go. */
  awaited?: boolean;
}

type Message = { release: string } | { free: string };

export class PgLocker implements Locker {
  readonly acquireTimeoutMs: number;
  readonly retryMs: number;
  readonly askEveryMs: number;
  /** Which request of this node holds an upload's lock (or is taking it). */
  private readonly held = new Map<string, Holder>();
  private readonly wakers = new Map<string, Set<() => void>>();
  /** The connection being opened or open; `current` once it is. */
  private session?: Promise<Session>;
  private current?: Session;
  private closed = false;

  constructor(private readonly opts: PgLockerOptions) {
    this.acquireTimeoutMs = opts.acquireTimeoutMs ?? 30_000;
    this.retryMs = opts.retryMs ?? 250;
    this.askEveryMs = opts.askEveryMs ?? 1000;
  }

  newLock(id: string): Lock {
    return new PgLock(this, id);
  }

  /** Ends the connection; locks still held are released by PostgreSQL with it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.session?.catch(() => {});
    const session = this.current;
    if (session) {
      this.lose(session);
      await session.client.end().catch(() => {});
    }
  }

  /** @internal The holder of an id on this node. */
  holderOf(id: string): Holder | undefined {
    return this.held.get(id);
  }

  /** @internal */
  claim(id: string, holder: Holder): void {
    this.held.set(id, holder);
  }

  /** @internal Forgets a holder (if it is still the one) and wakes the requests of this node waiting. */
  letGo(id: string, holder: Holder): void {
    if (this.held.get(id) === holder) this.held.delete(id);
    for (const wake of this.wakers.get(id) ?? []) wake();
  }

  /** @internal Takes the PostgreSQL lock if it is free: answers the session holding it, or undefined. */
  async tryLock(id: string): Promise<Session | undefined> {
    const session = await this.connect();
    try {
      const { rows } = await session.client.query<{ ok: boolean }>(
        'select pg_try_advisory_lock(hashtextextended($1, 0)) as ok',
        [lockName(id)],
      );
      return rows[0]?.ok && !session.lost ? session : undefined;
    } catch (err) {
      // A connection lost meanwhile is no reason to fail the request: the next try reconnects.
      if (session.lost && !this.closed) return undefined;
      throw err;
    }
  }

  /** @internal Releases the PostgreSQL lock; a lost session has released it already. */
  async unlock(id: string, holder: Holder): Promise<void> {
    const session = holder.session;
    if (!session || session.lost) return;
    // Only a node that asked hears that the lock is free; the others would just wake for nothing.
    const query = holder.awaited
      ? session.client.query('select pg_advisory_unlock(hashtextextended($1, 0)), pg_notify($2, $3)', [
          lockName(id),
          CHANNEL,
          notification({ free: id }),
        ])
      : session.client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [lockName(id)]);
    await query.catch(async (err) => {
      if (session.lost) return;
      // The lock would stay taken for as long as the connection lives: end it, which releases them all.
      this.opts.logger.warn({ err, uploadId: id }, 'could not release an upload lock; reconnecting');
      this.lose(session, err);
      await session.client.end().catch(() => {});
    });
  }

  /** @internal Asks the holder of the lock, on whichever node, to let go. */
  async askRelease(id: string): Promise<void> {
    const session = await this.connect();
    await session.client.query('select pg_notify($1, $2)', [CHANNEL, notification({ release: id })]);
  }

  /** @internal Resolves when the lock may have become free, after `ms`, or when the signal aborts. */
  waitFree(id: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.wakers.get(id);
      if (!set) {
        set = new Set();
        this.wakers.set(id, set);
      }
      const wakers = set;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wakers.delete(done);
        if (wakers.size === 0 && this.wakers.get(id) === wakers) this.wakers.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      wakers.add(done);
    });
  }

  private connect(): Promise<Session> {
    if (this.closed) return Promise.reject(new Error('the upload locker is closed'));
    if (!this.session) {
      const opening = this.open();
      this.session = opening;
      opening.catch(() => {
        if (this.session === opening) this.session = undefined;
      });
    }
    return this.session;
  }

  private async open(): Promise<Session> {
    const client = new pg.Client({
      connectionString: this.opts.url,
      application_name: 'vireo upload locks',
      keepAlive: true,
      // A query that hangs on a dead network must not hold a request forever.
      query_timeout: 15_000,
    });
    const session: Session = { client, lost: false };
    client.on('notification', (msg) => this.heard(msg.payload));
    client.on('error', (err) => this.lose(session, err));
    client.on('end', () => this.lose(session));
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (err) {
      session.lost = true;
      await client.end().catch(() => {});
      throw err;
    }
    this.current = session;
    return session;
  }

  /** PostgreSQL released every lock of a lost session: their holders must stop writing. */
  private lose(session: Session, err?: Error): void {
    if (session.lost) return;
    session.lost = true;
    if (this.current === session) {
      this.current = undefined;
      this.session = undefined;
    }
    if (!this.closed) this.opts.logger.warn({ err }, 'upload lock connection lost; its uploads stop');
    for (const [id, holder] of this.held) {
      if (holder.session !== session) continue;
      void holder.requestRelease();
      for (const wake of this.wakers.get(id) ?? []) wake();
    }
  }

  private heard(payload: string | undefined): void {
    let message: Message;
    try {
      message = JSON.parse(payload ?? '') as Message;
    } catch {
      return;
    }
    if ('release' in message) {
      const holder = this.held.get(message.release);
      // Only a holder that has the PostgreSQL lock is the one asked; one still taking it will find it busy.
      if (holder?.session) {
        holder.awaited = true;
        void holder.requestRelease();
      }
    } else if ('free' in message) {
      for (const wake of this.wakers.get(message.free) ?? []) wake();
    }
  }
}

class PgLock implements Lock {
  private holder?: Holder;

  constructor(
    private readonly locker: PgLocker,
    private readonly id: string,
  ) {}

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const { locker, id } = this;
    const deadline = Date.now() + locker.acquireTimeoutMs;
    let askedAt = 0;
    for (;;) {
      // As MemoryLocker: a request that ends or waits too long gets ERR_LOCK_TIMEOUT.
      if (signal.aborted || Date.now() >= deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
      const local = locker.holderOf(id);
      if (local) {
        // A request of this node has it: the newer request wins, as in tus's own locker.
        await local.requestRelease();
      } else {
        const mine: Holder = { requestRelease };
        locker.claim(id, mine);
        let session: Session | undefined;
        try {
          session = await locker.tryLock(id);
        } catch (err) {
          locker.letGo(id, mine);
          throw err;
        }
        if (session && !signal.aborted) {
          mine.session = session;
          this.holder = mine;
          return;
        }
        if (session) await locker.unlock(id, { ...mine, session });
        locker.letGo(id, mine);
        if (signal.aborted) throw ERRORS.ERR_LOCK_TIMEOUT;
        // Another node has it.
        if (Date.now() - askedAt >= locker.askEveryMs) {
          askedAt = Date.now();
          await locker.askRelease(id);
        }
      }
      await locker.waitFree(id, Math.min(locker.retryMs, Math.max(0, deadline - Date.now())), signal);
    }
  }

  async unlock(): Promise<void> {
    const holder = this.holder;
    if (!holder) throw new Error('Releasing an unlocked lock!');
    this.holder = undefined;
    try {
      await this.locker.unlock(this.id, holder);
    } finally {
      this.locker.letGo(this.id, holder);
    }
  }
}

function lockName(id: string): string {
  return `vireo.upload:${id}`;
}

function notification(message: Message): string {
  return JSON.stringify(message);
}
