// Counting views: who the viewer is, whether they are a member of the video's channel, and the batches
// that carry a node's views to the database every VIEWS_FLUSH_INTERVAL_MS.
import { createHmac, hkdfSync } from 'node:crypto';
import client from 'prom-client';
import type { Db } from '../../platform/db/database.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { VideosService } from '../videos/index.ts';
import * as repo from './repo.ts';
import { ViewBuffer } from './view-buffer.ts';

export type { ViewCounts } from './repo.ts';

/** Who is watching, as the route knows them. */
export interface ViewerFacts {
  principal: Principal | null;
  /** An anonymous client's own session id, kept on its side. */
  sessionId?: string;
  ip: string;
  userAgent: string;
}

export interface ViewsOptions {
  flushIntervalMs: number;
  /** Views written per statement; more wait for the next round of the same flush. */
  batchSize?: number;
  maxPending?: number;
  maxRecent?: number;
}

export class ViewsService {
  private readonly buffer: ViewBuffer;
  private readonly keySecret: Buffer;
  private readonly batchSize: number;
  private timer?: NodeJS.Timeout;
  /** Flushes run one after another; `queued` counts those asked for and not finished. */
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly received: client.Counter;
  private readonly counted: client.Counter;
  private readonly failures: client.Counter;
  private readonly batches: client.Counter;

  constructor(
    private readonly db: Db,
    private readonly videos: VideosService,
    secret: string,
    private readonly logger: Logger,
    registry: client.Registry,
    private readonly opts: ViewsOptions,
  ) {
    this.keySecret = Buffer.from(hkdfSync('sha256', secret, 'vireo', 'view-viewer-key-v1', 32));
    this.batchSize = opts.batchSize ?? 10_000;
    // About 150 bytes a view: some 15 MB each when full.
    this.buffer = new ViewBuffer(opts.maxPending ?? 100_000, opts.maxRecent ?? 100_000);
    const buffer = this.buffer;
    this.received = new client.Counter({
      name: 'views_received_total',
      help: 'Views posted and held for the next flush (repeats this node already knew are not)',
      registers: [registry],
    });
    this.counted = new client.Counter({
      name: 'views_counted_total',
      help: 'Views the database counted: the first of a viewer for a video in 24 h',
      registers: [registry],
    });
    this.batches = new client.Counter({
      name: 'views_flush_batches_total',
      help: 'Batches of views written, one statement each',
      registers: [registry],
    });
    this.failures = new client.Counter({
      name: 'views_flush_failures_total',
      help: 'Flushes that failed; their views wait for the next one',
      registers: [registry],
    });
    new client.Gauge({
      name: 'views_pending',
      help: 'Views held on this node until the next flush',
      registers: [registry],
      collect() {
        this.set(buffer.size);
      },
    });
  }

  /**
   * A viewer started playing a video they may watch (404/403 otherwise, as for the video itself). The
   * view is held for the next flush, which counts it when it is this viewer's first for the video in 24 h.
   */
  async record(videoId: string, viewer: ViewerFacts): Promise<void> {
    const video = await this.videos.watchable(videoId, viewer.principal);
    const member = viewer.principal
      ? viewer.principal.userId === video.owner_id ||
        (await repo.isMemberOf(this.db, video.owner_id, viewer.principal.userId))
      : false;
    const view = { videoId, viewerKey: this.viewerKey(videoId, viewer), member, at: new Date() };
    if (this.buffer.add(view)) this.received.inc();
    if (this.buffer.size >= this.batchSize && this.queued === 0) void this.flush();
  }

  /** Views per video (zeros for a video never viewed), as last flushed. */
  async countsOf(videoIds: string[]): Promise<Map<string, repo.ViewCounts>> {
    const counts = await repo.countsOf(this.db, videoIds);
    for (const id of videoIds) if (!counts.has(id)) counts.set(id, { member: 0, non_member: 0, total: 0 });
    return counts;
  }

  /**
   * Writes every view held when called (after a flush already running), a batch at a time. A batch that
   * fails goes back to the buffer for the next flush, and this one stops there.
   */
  flush(): Promise<void> {
    this.queued++;
    this.chain = this.chain.then(() => this.flushHeld()).finally(() => this.queued--);
    return this.chain;
  }

  private async flushHeld(): Promise<void> {
    // Only what is held now: views posted meanwhile wait for the next flush, so that steady traffic
    // makes one batch per interval, not one after another.
    let remaining = this.buffer.size;
    while (remaining > 0) {
      const batch = this.buffer.take(Math.min(remaining, this.batchSize));
      remaining -= batch.length;
      let counted: Awaited<ReturnType<typeof repo.writeBatch>>;
      try {
        counted = await repo.writeBatch(this.db, batch);
      } catch (err) {
        this.buffer.restore(batch);
        this.failures.inc();
        this.logger.warn({ err, views: batch.length }, 'views flush failed; kept for the next one');
        return;
      }
      this.batches.inc();
      this.counted.inc(counted.length);
      this.buffer.remember(
        counted.map((c) => ({ videoId: c.video_id, viewerKey: c.viewer_key, at: c.counted_at })),
      );
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      // A flush still running (a slow database) is not joined by more.
      if (this.queued === 0) void this.flush();
    }, this.opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Flushes everything held (no request is served any more); what still fails is logged as lost. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    // Once more for a batch that failed: the database may have been away for a moment.
    if (this.buffer.size > 0) await this.flush();
    if (this.buffer.size > 0) this.logger.error({ views: this.buffer.size }, 'views lost at shutdown');
  }

  async sweepMarks(): Promise<number> {
    return repo.sweepMarks(this.db);
  }

  /**
   * The viewer as a key per video: a user by id, an anonymous client by its session id, else by address
   * and user agent. An HMAC of the video and the viewer, so the stored key says nothing of who watched,
   * and the keys of one viewer on two videos cannot be told to be the same viewer's.
   */
  private viewerKey(videoId: string, viewer: ViewerFacts): Buffer {
    const who = viewer.principal
      ? `u:${viewer.principal.userId}`
      : viewer.sessionId
        ? `s:${viewer.sessionId}`
        : `a:${viewer.ip}\n${viewer.userAgent}`;
    return createHmac('sha256', this.keySecret).update(`${videoId}\n${who}`).digest().subarray(0, 16);
  }
}
