// Live notifications on this node: the open streams, by user. Whoever stores notifications publishes a
// small notice on the NotifyHub (the users named, or a slice of user ids for a fan-out), which every
// node hears; each node then reads, for those of its users the notice concerns, what their streams have
// not sent yet, in one query, and writes it out. A stream may so sit on any node.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { NotifyHub } from '../../platform/realtime/notify-hub.ts';
import type { SseStream, SseStreams } from '../../platform/realtime/sse.ts';
import { type NotificationRow, newerThan, type UserRange } from './repo.ts';

export const NOTIFICATIONS_TOPIC = 'notifications';

/** What a NotifyHub message says: whose notifications were stored. */
export type LiveNotice = { user_ids: string[] } | { range: UserRange };

/** Rows read per user per query; more are read by the next one at once. */
const PER_USER = 100;
/**
 * Ids are drawn when rows are inserted, but transactions commit in their own order: a row with a lower
 * id can appear after a higher one was sent. A stream's cursor therefore stays this far behind what it
 * sent, and remembers what it sent meanwhile.
 */
const GRACE_MS = 10_000;

export class StreamCursor {
  private floor: number;
  private readonly recent = new Map<number, number>();

  constructor(from: number) {
    this.floor = from;
  }

  /** Read ids above this. */
  get after(): number {
    return this.floor;
  }

  /** How many rows above the floor were sent already (a read must reach past them). */
  get held(): number {
    return this.recent.size;
  }

  /** Those of `rows` this stream has not sent, marked as sent now. */
  take(rows: NotificationRow[], now: number): NotificationRow[] {
    const fresh = rows.filter((r) => r.id > this.floor && !this.recent.has(r.id));
    for (const r of fresh) this.recent.set(r.id, now);
    return fresh;
  }

  /** Moves the floor over what was sent longer than GRACE_MS ago. */
  settle(now: number): void {
    for (const [id, at] of this.recent) {
      if (now - at >= GRACE_MS) this.floor = Math.max(this.floor, id);
    }
    for (const id of this.recent.keys()) if (id <= this.floor) this.recent.delete(id);
  }
}

interface Listener {
  cursor: StreamCursor;
  stream: SseStream;
}

export interface LiveStreamOptions {
  userId: string;
  /** Send what comes after this id. */
  from: number;
  heartbeatMs: number;
  /** Rejects when the account may no longer listen (hidden, signed out): the stream then ends. */
  recheck: () => Promise<unknown>;
  /** Written first, once the stream hears everything that follows. */
  hello: { event: string; data: () => Promise<unknown> };
}

export class LiveNotifications {
  private readonly users = new Map<string, Set<Listener>>();
  private readonly pending = new Set<string>();
  private running = false;

  constructor(
    private readonly db: Db,
    hub: NotifyHub,
    private readonly toDto: (row: NotificationRow) => unknown,
    private readonly logger: Logger,
  ) {
    hub.subscribe(NOTIFICATIONS_TOPIC, (notice) => this.heard(notice as LiveNotice));
    // Notices may have been missed while the hub's connection was down: read for everyone.
    hub.onReset(() => this.wake([...this.users.keys()]));
  }

  /** Streams open on this node. */
  get size(): number {
    let n = 0;
    for (const set of this.users.values()) n += set.size;
    return n;
  }

  open(request: FastifyRequest, reply: FastifyReply, streams: SseStreams, opts: LiveStreamOptions): void {
    let checking = false;
    const recheck = () => {
      if (stream.closed || checking) return;
      checking = true;
      opts.recheck().then(
        () => {
          checking = false;
        },
        () => stream.close(),
      );
    };
    const stream = streams.open(request, reply, { heartbeatMs: opts.heartbeatMs, onHeartbeat: recheck });
    const listener: Listener = { cursor: new StreamCursor(opts.from), stream };
    let set = this.users.get(opts.userId);
    if (!set) {
      set = new Set();
      this.users.set(opts.userId, set);
    }
    set.add(listener);
    stream.onClose(() => {
      const mine = this.users.get(opts.userId);
      mine?.delete(listener);
      if (mine?.size === 0) this.users.delete(opts.userId);
    });
    opts.hello.data().then(
      (data) => {
        stream.send(opts.hello.event, data);
        // What was stored between reading `from` and listening has had no notice this stream heard.
        this.wake([opts.userId]);
      },
      (err) => {
        this.logger.warn({ err }, 'live notifications: opening failed');
        stream.close();
      },
    );
  }

  private heard(notice: LiveNotice): void {
    if ('user_ids' in notice) {
      this.wake(notice.user_ids.filter((id) => this.users.has(id)));
      return;
    }
    const { after, upto } = notice.range;
    this.wake([...this.users.keys()].filter((id) => (!after || id > after) && (!upto || id <= upto)));
  }

  private wake(userIds: string[]): void {
    if (!userIds.length) return;
    for (const id of userIds) this.pending.add(id);
    void this.run();
  }

  /** One query at a time per node; notices heard meanwhile are read together by the next. */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.size) {
        const now = Date.now();
        const cursors: { userId: string; after: number; limit: number }[] = [];
        for (const userId of this.pending) {
          const listeners = this.users.get(userId);
          if (!listeners?.size) continue;
          let after = Number.POSITIVE_INFINITY;
          let held = 0;
          for (const l of listeners) {
            l.cursor.settle(now);
            after = Math.min(after, l.cursor.after);
            held = Math.max(held, l.cursor.held);
          }
          cursors.push({ userId, after, limit: PER_USER + held });
        }
        this.pending.clear();
        const limits = new Map(cursors.map((c) => [c.userId, c.limit]));
        const rows = await newerThan(this.db, cursors);
        const byUser = new Map<string, NotificationRow[]>();
        for (const row of rows) {
          const list = byUser.get(row.user_id) ?? [];
          list.push(row);
          byUser.set(row.user_id, list);
        }
        for (const [userId, list] of byUser) {
          for (const l of this.users.get(userId) ?? []) {
            for (const row of l.cursor.take(list, now))
              l.stream.send('notification', this.toDto(row), String(row.id));
          }
          // A full page: more wait (at least PER_USER of this page were new, so the next read moves on).
          if (list.length === limits.get(userId)) this.pending.add(userId);
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'live notifications: reading failed');
    } finally {
      this.running = false;
    }
  }
}
