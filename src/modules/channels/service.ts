// Channel rules: one per account, made with it; its page, premium fee and images; who may change it;
// removing it with its videos. Later modules (community, money) use membershipTier and setMembership.
import path from 'node:path';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import type { Db, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { RateLimiter } from '../../platform/http/rate-limit.ts';
import { ImageError, renderImage } from '../../platform/media/image.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { type NotifyHub, publish } from '../../platform/realtime/notify-hub.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import { channelCreated, channelDeleted, channelMembershipChanged, channelUpdated } from './events.ts';
import { handleCandidates, handleFrom } from './handles.ts';
import { IMAGE_KINDS, type ImageKind, imageFileName, imageKey } from './images.ts';
import { OwnerChannels } from './owner-channels.ts';
import type { ChannelPatch, ChannelRow, ChannelVideoRow, ChannelWithOwner } from './repo.ts';
import * as repo from './repo.ts';

/**
 * What channels need of the videos module: removing every video of an owner with its stored objects,
 * in the caller's transaction.
 */
export interface VideoRemover {
  deleteAllOf(ownerId: string, tx?: Tx): Promise<number>;
}

export interface ChannelsDeps {
  db: Db;
  store: ObjectStore;
  videos: VideoRemover;
  logger: Logger;
  /** Scratch folder for images being checked and resized. */
  scratchDir: string;
  /** Tells every node when an account's channel goes or comes (their caches of it). */
  hub?: NotifyHub;
  /** Bounds the ffmpeg work one account may cause with images. */
  limiter?: RateLimiter;
}

/** Images each account may send per hour: each costs an ffprobe and an ffmpeg run. */
const IMAGES_PER_HOUR = 60;

/** NOTIFY topic: `{ owner_id }` whose channel was deleted or made again. */
const OWNER_TOPIC = 'channels:owner';

export type MembershipTier = 0 | 1 | 2;

/** What an owner may change with PUT; absent fields stay. */
export interface ChannelEdit {
  handle?: string;
  name?: string;
  description?: string;
  monthly_fee?: string;
  currency?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME_MAX = 50;
/** Tries before registration gives up on a handle; random suffixes make a second collision unlikely. */
const HANDLE_ATTEMPTS = 20;

export class ChannelsService {
  private readonly ownerChannels: OwnerChannels;

  constructor(private readonly deps: ChannelsDeps) {
    this.ownerChannels = new OwnerChannels((ownerId) => repo.channelIdOfOwner(deps.db, ownerId));
    deps.hub?.subscribe(OWNER_TOPIC, (data) =>
      this.ownerChannels.forget((data as { owner_id: string }).owner_id),
    );
    deps.hub?.onReset(() => this.ownerChannels.clear());
  }

  /**
   * Makes the channel of a new account, in the transaction that creates it. Never fails because of
   * a handle: a taken one gets a suffix.
   */
  async createFor(tx: Tx, user: { id: string; username: string; display_name: string }): Promise<ChannelRow> {
    const name = user.display_name.trim().slice(0, NAME_MAX) || user.username;
    let attempts = 0;
    for (const handle of handleCandidates(handleFrom(user.username))) {
      const made = await repo.insertChannelIfFree(tx, { id: uuidv7(), owner_id: user.id, handle, name });
      if (made) {
        await this.announceCreated(tx, made);
        return made;
      }
      const existing = await repo.findByOwner(tx, user.id);
      if (existing) return existing;
      if (++attempts >= HANDLE_ATTEMPTS) break;
    }
    throw new Error(`no free channel handle for user ${user.id} after ${HANDLE_ATTEMPTS} attempts`);
  }

  /** The channel of an account; undefined when it has none (deleted it). */
  ofOwner(ownerId: string): Promise<ChannelWithOwner | undefined> {
    return repo.findByOwner(this.deps.db, ownerId);
  }

  /** The id of an account's channel, null when it has none; from memory when it can. */
  channelIdOf(ownerId: string): Promise<string | null> {
    return this.ownerChannels.get(ownerId);
  }

  /** By id or by handle (any case); whatever its owner's status. */
  get(idOrHandle: string): Promise<ChannelWithOwner | undefined> {
    return UUID.test(idOrHandle)
      ? repo.findById(this.deps.db, idOrHandle)
      : repo.findByHandle(this.deps.db, idOrHandle);
  }

  membershipTier(channelId: string, userId: string): Promise<MembershipTier> {
    return repo.membershipTier(this.deps.db, channelId, userId);
  }

  /**
   * Sets (tier 1 subscriber, 2 premium) or ends (null) a membership, in the caller's transaction, and
   * emits `channel.membership_changed` when the tier changed. Answers the tier before. With `from`, it
   * changes only a membership whose tier is one of those (subscribing keeps a premium member premium).
   */
  async setMembership(
    tx: Tx,
    channelId: string,
    userId: string,
    tier: 1 | 2 | null,
    from?: ReadonlyArray<1 | 2 | null>,
  ): Promise<1 | 2 | null> {
    const before = await repo.setMembership(tx, channelId, userId, tier, from);
    if (before !== tier && (!from || from.includes(before))) {
      const channel = await repo.findById(tx, channelId);
      if (channel) {
        await emit(
          tx,
          channelMembershipChanged.create({
            aggregateId: channelId,
            payload: {
              channel_id: channelId,
              owner_id: channel.owner_id,
              user_id: userId,
              tier_before: before,
              tier,
            },
          }),
        );
      }
    }
    return before;
  }

  /** A channel the caller may see: one whose owner is hidden or deleted exists for admins only. */
  async visible(idOrHandle: string, principal: Principal | null): Promise<ChannelWithOwner> {
    const channel = await this.get(idOrHandle);
    if (!channel || (channel.owner_status !== 'active' && principal?.role !== 'admin')) {
      throw new DomainError('CHANNEL_NOT_FOUND');
    }
    return channel;
  }

  /** The channel's page: the channel, its counts and the caller's membership. */
  async page(idOrHandle: string, principal: Principal | null) {
    const channel = await this.visible(idOrHandle, principal);
    const [counts, tier] = await Promise.all([
      repo.countsOf(this.deps.db, channel),
      principal ? this.membershipTier(channel.id, principal.userId) : Promise.resolve<MembershipTier>(0),
    ]);
    return { channel, counts, tier };
  }

  /** The channel's videos anyone may see (the same list for its owner and admins), newest first. */
  async videos(
    idOrHandle: string,
    principal: Principal | null,
    page: { limit: number; after?: [string, string] },
  ): Promise<{ channel: ChannelWithOwner; rows: ChannelVideoRow[] }> {
    const channel = await this.visible(idOrHandle, principal);
    const rows = await repo.listChannelVideos(this.deps.db, channel.owner_id, {
      limit: page.limit + 1,
      after: page.after,
    });
    return { channel, rows };
  }

  /** Owner or admin; HANDLE_TAKEN when another channel has the handle. Emits channel.updated on a change. */
  async update(id: string, principal: Principal, edit: ChannelEdit): Promise<ChannelRow> {
    await this.managed(id, principal);
    return this.inTx(async (tx) => {
      const current = await repo.lockById(tx, id);
      if (!current) throw new DomainError('CHANNEL_NOT_FOUND');
      const patch: ChannelPatch = {};
      for (const field of ['handle', 'name', 'description', 'monthly_fee', 'currency'] as const) {
        const value = edit[field];
        if (value !== undefined && !sameValue(field, current[field], value)) patch[field] = value;
      }
      const fields = Object.keys(patch);
      if (fields.length === 0) return current;
      const updated = await repo.updateChannel(tx, id, patch);
      await this.announceUpdated(tx, updated, fields);
      return updated;
    });
  }

  /**
   * Checks, resizes and stores a new avatar or banner under a new name (so caches may keep each name
   * forever), then removes the one it replaces. IMAGE_INVALID when the bytes are not a picture we take.
   */
  async setImage(id: string, principal: Principal, kind: ImageKind, bytes: Buffer): Promise<ChannelRow> {
    await this.managed(id, principal);
    await this.deps.limiter?.hit(`channel-images:${principal.userId}`, {
      limit: IMAGES_PER_HOUR,
      windowSeconds: 3600,
    });
    const spec = IMAGE_KINDS[kind];
    let rendered: Awaited<ReturnType<typeof renderImage>>;
    try {
      rendered = await renderImage(bytes, spec, path.join(this.deps.scratchDir, 'images'));
    } catch (err) {
      if (err instanceof ImageError) {
        throw new DomainError('IMAGE_INVALID', `The image ${err.message}`, {
          fields: [{ field: kind, message: err.message }],
        });
      }
      throw err;
    }
    const key = imageKey(id, imageFileName(kind, rendered.ext));
    await this.deps.store.put(key, rendered.data, rendered.contentType);
    let previous: string | null = null;
    try {
      const updated = await this.inTx(async (tx) => {
        const current = await repo.lockById(tx, id);
        if (!current) throw new DomainError('CHANNEL_NOT_FOUND');
        previous = current[spec.column];
        const saved = await repo.updateChannel(tx, id, { [spec.column]: key });
        await this.announceUpdated(tx, saved, [kind]);
        return saved;
      });
      await this.removeObject(previous);
      return updated;
    } catch (err) {
      await this.removeObject(key);
      throw err;
    }
  }

  async removeImage(id: string, principal: Principal, kind: ImageKind): Promise<ChannelRow> {
    await this.managed(id, principal);
    const column = IMAGE_KINDS[kind].column;
    let previous: string | null = null;
    const updated = await this.inTx(async (tx) => {
      const current = await repo.lockById(tx, id);
      if (!current) throw new DomainError('CHANNEL_NOT_FOUND');
      previous = current[column];
      if (previous === null) return current;
      const saved = await repo.updateChannel(tx, id, { [column]: null });
      await this.announceUpdated(tx, saved, [kind]);
      return saved;
    });
    await this.removeObject(previous);
    return updated;
  }

  /** The store key of a channel image a media URL names, if it is one of its current images. */
  async currentImage(channelId: string, file: string): Promise<string | null> {
    if (!UUID.test(channelId)) return null;
    const channel = await repo.findById(this.deps.db, channelId);
    if (channel?.owner_status !== 'active') return null;
    const key = imageKey(channel.id, file);
    return key === channel.avatar_key || key === channel.banner_key ? key : null;
  }

  /**
   * The signed-in user's channel goes, with its images, memberships and every video of the owner (and
   * their stored objects); the account stays and may make a new channel.
   */
  async deleteOwn(principal: Principal): Promise<void> {
    const { channelId, removed } = await this.inTx(async (tx) => {
      const found = await repo.findByOwner(tx, principal.userId);
      const current = found && (await repo.lockById(tx, found.id));
      if (!current) throw new DomainError('CHANNEL_NOT_FOUND');
      // One transaction: the channel never outlives its videos, nor the videos the channel.
      const removed = await this.deps.videos.deleteAllOf(principal.userId, tx);
      await repo.deleteChannel(tx, current.id);
      await emit(
        tx,
        channelDeleted.create({
          aggregateId: current.id,
          payload: { channel_id: current.id, owner_id: current.owner_id },
        }),
      );
      await this.ownerChanged(tx, current.owner_id);
      return { channelId: current.id, removed };
    });
    this.ownerChannels.forget(principal.userId);
    await this.deps.store.deletePrefix(imageKey(channelId, ''));
    this.deps.logger.info({ channel_id: channelId, videos: removed }, 'channel deleted by its owner');
  }

  /**
   * A deleted account's channel goes with it (its videos go by the videos module's own subscriber).
   * Run by the event relay in `tx`; repeating it finds nothing left to do.
   */
  async ownerDeleted(tx: Tx, ownerId: string): Promise<void> {
    const found = await repo.findByOwner(tx, ownerId);
    const current = found && (await repo.lockById(tx, found.id));
    if (!current) return;
    await repo.deleteChannel(tx, current.id);
    await emit(
      tx,
      channelDeleted.create({
        aggregateId: current.id,
        payload: { channel_id: current.id, owner_id: current.owner_id },
      }),
    );
    await this.ownerChanged(tx, ownerId);
    // Before the commit: should it fail, the channel is still there and the event is handled again.
    await this.deps.store.deletePrefix(imageKey(current.id, ''));
  }

  /** A new channel for a signed-in user who has none (they deleted it). */
  async createOwn(principal: Principal, input: { handle: string; name: string }): Promise<ChannelRow> {
    const made = await this.inTx(async (tx) => {
      if (await repo.findByOwner(tx, principal.userId)) throw new DomainError('CHANNEL_EXISTS');
      const made = await repo.insertChannelIfFree(tx, {
        id: uuidv7(),
        owner_id: principal.userId,
        handle: input.handle,
        name: input.name,
      });
      if (!made) {
        if (await repo.findByOwner(tx, principal.userId)) throw new DomainError('CHANNEL_EXISTS');
        throw handleTaken();
      }
      await this.announceCreated(tx, made);
      await this.ownerChanged(tx, principal.userId);
      return made;
    });
    this.ownerChannels.forget(principal.userId);
    return made;
  }

  /** Every node forgets what it knew of the owner's channel once `tx` commits. */
  private async ownerChanged(tx: Tx, ownerId: string): Promise<void> {
    if (this.deps.hub) await publish(tx, OWNER_TOPIC, { owner_id: ownerId });
  }

  /** The owner or an admin may change a channel; others get 403, and 404 when they may not see it. */
  private async managed(id: string, principal: Principal): Promise<ChannelWithOwner> {
    const channel = await this.visible(id, principal);
    if (channel.owner_id !== principal.userId && principal.role !== 'admin') {
      throw new DomainError(
        'PERMISSION_DENIED',
        'Only the owner of the channel or an administrator may change it',
      );
    }
    return channel;
  }

  private async inTx<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.deps.db.transaction().execute(work);
    } catch (err) {
      if (
        err instanceof pg.DatabaseError &&
        err.code === '23505' &&
        err.constraint === 'channels_handle_key'
      ) {
        throw handleTaken();
      }
      throw err;
    }
  }

  private async announceCreated(tx: Tx, channel: ChannelRow): Promise<void> {
    await emit(
      tx,
      channelCreated.create({
        aggregateId: channel.id,
        payload: { channel_id: channel.id, owner_id: channel.owner_id, handle: channel.handle },
      }),
    );
  }

  private async announceUpdated(tx: Tx, channel: ChannelRow, fields: string[]): Promise<void> {
    await emit(
      tx,
      channelUpdated.create({
        aggregateId: channel.id,
        payload: { channel_id: channel.id, owner_id: channel.owner_id, fields },
      }),
    );
  }

  /** An image no channel names any more; a failure leaves a stray object, never a broken page. */
  private async removeObject(key: string | null): Promise<void> {
    if (!key) return;
    try {
      await this.deps.store.delete(key);
    } catch (err) {
      this.deps.logger.warn({ err, key }, 'could not delete a replaced channel image');
    }
  }
}

function handleTaken(): DomainError {
  return new DomainError('HANDLE_TAKEN', 'Another channel has this handle', {
    fields: [{ field: 'handle', message: 'is taken' }],
  });
}

/** Fees compare as numbers ("5" is "5.00"). */
function sameValue(field: keyof ChannelEdit, current: string, next: string): boolean {
  if (field === 'monthly_fee') return Number(current) === Number(next);
  return current === next;
}
