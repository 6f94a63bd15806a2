// The shared layer under each node's in-process cache, when REDIS_URL is set: lists of video summaries by
// key (`tag:<slug>`, `pool`), and for each video the keys of the lists holding it, so that a change drops
// exactly those. Any Redis failure reads as a miss: PostgreSQL answers instead.
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/observability/logger.ts';
import type { VideoSummary } from './summary.ts';

const PREFIX = 'vireo:rec:';
/** The safety net behind invalidation. */
const TTL_SECONDS = 600;

export class RedisLayer {
  private constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  /** Connects; when Redis cannot be reached yet, the layer misses until the client gets through. */
  static async connect(url: string, logger: Logger): Promise<RedisLayer> {
    // Loaded only when configured: nodes without Redis never load the client.
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, {
      lazyConnect: true,
      // A request never waits for Redis to come back: it reads PostgreSQL instead.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 200,
    });
    redis.on('error', (err: Error) => logger.warn({ err: { message: err.message } }, 'redis error'));
    await redis
      .connect()
      .catch((err: Error) => logger.warn({ err: { message: err.message } }, 'redis unreachable at start'));
    return new RedisLayer(redis, logger);
  }

  async getList(key: string): Promise<VideoSummary[] | undefined> {
    try {
      const value = await this.redis.get(PREFIX + key);
      return value ? (JSON.parse(value) as VideoSummary[]) : undefined;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  async setList(key: string, items: VideoSummary[]): Promise<void> {
    try {
      const pipe = this.redis.multi();
      pipe.set(PREFIX + key, JSON.stringify(items), 'EX', TTL_SECONDS);
      for (const item of items) {
        pipe.sadd(`${PREFIX}in:${item.id}`, key);
        pipe.expire(`${PREFIX}in:${item.id}`, TTL_SECONDS);
      }
      await pipe.exec();
    } catch (err) {
      this.fail(err);
    }
  }

  /** Drops the lists of these keys and every list holding the video; answers the keys dropped. */
  async drop(videoId: string | undefined, keys: string[]): Promise<string[]> {
    const all = new Set(keys);
    try {
      if (videoId) {
        for (const key of await this.redis.smembers(`${PREFIX}in:${videoId}`)) all.add(key);
        await this.redis.del(`${PREFIX}in:${videoId}`);
      }
      if (all.size) await this.redis.del(...[...all].map((k) => PREFIX + k));
    } catch (err) {
      this.fail(err);
    }
    return [...all];
  }

  /** Drops every list (an owner hidden, missed notifications). */
  async dropAll(): Promise<void> {
    try {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 500);
        if (keys.length) await this.redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch (err) {
      this.fail(err);
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private fail(err: unknown): void {
    this.logger.warn({ err: { message: (err as Error).message } }, 'redis unavailable; reading PostgreSQL');
  }
}
