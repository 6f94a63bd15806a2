// Playlists and Watch later: who may see and change a collection, its limits, and the order of its
// items. Every change of one owner's collections runs under that owner's lock (repo.lockOwner) and emits
// collection.item_added / item_removed in its transaction, saying whether the video is still bookmarked.
import { sql } from 'kysely';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import type { Db, DbOrTx, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { AccountsService } from '../accounts/index.ts';
import { listable, seeableBy, type VideosService } from '../videos/index.ts';
import { bookmarkAggregateId, collectionItemAdded, collectionItemRemoved } from './events.ts';
import { indexOf, type Placement, renumbered, STEP, slotAt } from './ordering.ts';
import type { CollectionRow, CollectionVisibility, ItemRow } from './repo.ts';
import * as repo from './repo.ts';
import { WATCH_LATER_REF } from './schema.ts';

export interface CollectionLimits {
  maxItems: number;
  maxPerUser: number;
}

export interface PageOpts<C> {
  limit: number;
  after?: C;
}

export class CollectionsService {
  constructor(
    private readonly db: Db,
    private readonly videos: VideosService,
    private readonly accounts: AccountsService,
    private readonly limits: CollectionLimits,
  ) {}

  /** My collections, newest first; my Watch later is made first if it was not yet. */
  async mine(principal: Principal, page: PageOpts<[string, string]>): Promise<CollectionRow[]> {
    await repo.ensureWatchLater(this.db, principal.userId, uuidv7());
    return repo.listByOwner(this.db, principal.userId, { publicOnly: false, ...page, limit: page.limit + 1 });
  }

  /** A user's public collections (all of them when it is the caller). */
  async ofUser(
    userId: string,
    principal: Principal | null,
    page: PageOpts<[string, string]>,
  ): Promise<CollectionRow[]> {
    if (principal?.userId === userId) return this.mine(principal, page);
    const user = await this.accounts.getUser(userId);
    if (user.status !== 'active') throw new DomainError('USER_NOT_FOUND');
    return repo.listByOwner(this.db, userId, { publicOnly: true, ...page, limit: page.limit + 1 });
  }

  async get(ref: string, principal: Principal | null): Promise<CollectionRow> {
    return this.resolve(this.db, ref, principal);
  }

  async create(
    principal: Principal,
    input: { name: string; description: string; visibility: CollectionVisibility },
  ): Promise<CollectionRow> {
    const id = uuidv7();
    await this.db.transaction().execute(async (tx) => {
      await repo.lockOwner(tx, principal.userId);
      if ((await repo.countByOwner(tx, principal.userId)) >= this.limits.maxPerUser) {
        throw new DomainError(
          'COLLECTION_LIMIT_REACHED',
          `You may have at most ${this.limits.maxPerUser} collections; delete one first`,
        );
      }
      await repo.insertCollection(tx, { id, owner_id: principal.userId, ...input });
    });
    return this.get(id, principal);
  }

  async update(
    ref: string,
    principal: Principal,
    patch: { name?: string; description?: string; visibility?: CollectionVisibility },
  ): Promise<CollectionRow> {
    const c = await this.owned(this.db, ref, principal);
    if (Object.values(patch).every((v) => v === undefined)) return c;
    if (c.kind === 'watch_later') {
      throw new DomainError('COLLECTION_PROTECTED', undefined, {
        fields: Object.keys(patch).map((field) => ({ field, message: 'Watch later cannot be changed' })),
      });
    }
    await repo.updateCollection(this.db, c.id, patch);
    return this.get(c.id, principal);
  }

  /** Deletes a playlist; each of its videos is announced as removed, as if taken out one by one. */
  async remove(ref: string, principal: Principal): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await repo.lockOwner(tx, principal.userId);
      const c = await this.owned(tx, ref, principal);
      if (c.kind === 'watch_later') throw new DomainError('COLLECTION_PROTECTED');
      const videoIds = await repo.deleteCollection(tx, c.id);
      const still = await repo.stillBookmarked(tx, c.owner_id, videoIds);
      const occurredAt = await repo.clockNow(tx);
      for (const videoId of videoIds) {
        await emitItem(tx, 'removed', c, videoId, still.has(videoId), occurredAt);
      }
    });
  }

  /**
   * The items the caller is shown, in order: to the owner, every video they may still see (unlisted
   * ones included); to others, only videos anyone may find in a list.
   */
  async items(
    ref: string,
    principal: Principal | null,
    page: PageOpts<[number, string]>,
  ): Promise<ItemRow[]> {
    const c = await this.resolve(this.db, ref, principal);
    const shown = principal?.userId === c.owner_id ? seeableBy('v', c.owner_id) : listable('v');
    return repo.listItems(this.db, c.id, shown, { ...page, limit: page.limit + 1 });
  }

  /**
   * Puts a video the caller may see into their collection (at `position`, else last). Adding one that is
   * there already changes nothing and answers `added: false`.
   */
  async addItem(
    ref: string,
    principal: Principal,
    input: { video_id: string; position?: number },
  ): Promise<{ item: ItemRow; added: boolean }> {
    const videoId = input.video_id;
    await this.videos.viewable(videoId, principal);
    const { collectionId, added } = await videoStillThere(() =>
      this.db.transaction().execute(async (tx) => {
        await repo.lockOwner(tx, principal.userId);
        const c = await this.owned(tx, ref, principal);
        if (await repo.hasItem(tx, c.id, videoId)) return { collectionId: c.id, added: false };
        if (c.items_total >= this.limits.maxItems) {
          throw new DomainError(
            'COLLECTION_FULL',
            `A collection holds at most ${this.limits.maxItems} videos`,
            {
              fields: [{ field: 'video_id', message: 'the collection is full' }],
            },
          );
        }
        const position =
          input.position === undefined
            ? ((await repo.lastPosition(tx, c.id)) ?? 0) + STEP
            : await placeAt(tx, c.id, videoId, input.position);
        await repo.insertItem(tx, c.id, videoId, position);
        await repo.touchCollection(tx, c.id);
        await emitItem(tx, 'added', c, videoId, true, await repo.clockNow(tx));
        return { collectionId: c.id, added: true };
      }),
    );
    return { item: await this.itemOf(collectionId, videoId), added };
  }

  /** Takes a video out; taking out one that is not there changes nothing. */
  async removeItem(ref: string, principal: Principal, videoId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await repo.lockOwner(tx, principal.userId);
      const c = await this.owned(tx, ref, principal);
      if (!(await repo.deleteItem(tx, c.id, videoId))) return;
      await repo.touchCollection(tx, c.id);
      const still = await repo.stillBookmarked(tx, c.owner_id, [videoId]);
      await emitItem(tx, 'removed', c, videoId, still.has(videoId), await repo.clockNow(tx));
    });
  }

  /** Moves an item right before or after another one, or to an index; the others keep their order. */
  async moveItem(ref: string, principal: Principal, videoId: string, placement: Placement): Promise<ItemRow> {
    const collectionId = await this.db.transaction().execute(async (tx) => {
      await repo.lockOwner(tx, principal.userId);
      const c = await this.owned(tx, ref, principal);
      const order = await repo.orderOf(tx, c.id);
      if (!order.some((o) => o.video_id === videoId)) throw new DomainError('COLLECTION_ITEM_NOT_FOUND');
      const others = order.filter((o) => o.video_id !== videoId).map((o) => o.video_id);
      const index = indexOf(others, placement);
      if (index < 0) {
        const field = 'before' in placement ? 'before_video_id' : 'after_video_id';
        throw new DomainError(
          'COLLECTION_ITEM_NOT_FOUND',
          'That video is not (otherwise) in this collection',
          {
            fields: [{ field, message: 'not another item of this collection' }],
          },
        );
      }
      await repo.setPosition(tx, c.id, videoId, await placeAt(tx, c.id, videoId, index, order));
      await repo.touchCollection(tx, c.id);
      return c.id;
    });
    return this.itemOf(collectionId, videoId);
  }

  /** One item as its owner was just shown it (the video was checked as it was added). */
  private async itemOf(collectionId: string, videoId: string): Promise<ItemRow> {
    const [item] = await repo.listItems(this.db, collectionId, sql<boolean>`true`, { limit: 1, videoId });
    if (!item) throw new DomainError('VIDEO_NOT_FOUND');
    return item;
  }

  /**
   * The collection if the caller may see it: its owner always; others when it is public and its owner's
   * account is active. Anyone else is told it does not exist.
   */
  private async resolve(db: DbOrTx, ref: string, principal: Principal | null): Promise<CollectionRow> {
    if (ref === WATCH_LATER_REF) {
      if (!principal) throw new DomainError('TOKEN_MISSING', 'Sign in to use your Watch later');
      return repo.ensureWatchLater(db, principal.userId, uuidv7());
    }
    const c = await repo.findCollection(db, ref);
    const seen =
      c && (principal?.userId === c.owner_id || (c.visibility === 'public' && c.owner_status === 'active'));
    if (!seen) throw new DomainError('COLLECTION_NOT_FOUND');
    return c;
  }

  /** The collection if the caller owns it; one they may only look at is not theirs to change. */
  private async owned(db: DbOrTx, ref: string, principal: Principal): Promise<CollectionRow> {
    const c = await this.resolve(db, ref, principal);
    if (c.owner_id !== principal.userId) {
      throw new DomainError('PERMISSION_DENIED', 'Only its owner may change a collection');
    }
    return c;
  }
}

/**
 * The position that puts `videoId` at `index` among the other items. When its neighbours are too close
 * for a number between them, the whole list is numbered afresh (one statement) first.
 */
async function placeAt(
  tx: Tx,
  collectionId: string,
  videoId: string,
  index: number,
  order?: Array<{ video_id: string; position: number }>,
): Promise<number> {
  const others = (order ?? (await repo.orderOf(tx, collectionId))).filter((o) => o.video_id !== videoId);
  const slot = slotAt(
    others.map((o) => o.position),
    index,
  );
  if (slot !== null) return slot;
  const ids = others.map((o) => o.video_id);
  const at = Math.min(index, ids.length);
  ids.splice(at, 0, videoId);
  const positions = renumbered(ids.length);
  await repo.setPositions(tx, collectionId, ids, positions);
  return positions[at]!;
}

/**
 * The video was deleted between the access check and the insert of its item: the item's foreign key
 * fails (23503), which is the 404 the access check would have answered a moment later, not a 500.
 */
async function videoStillThere<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof pg.DatabaseError && err.code === '23503') throw new DomainError('VIDEO_NOT_FOUND');
    throw err;
  }
}

function emitItem(
  tx: Tx,
  change: 'added' | 'removed',
  c: Pick<CollectionRow, 'id' | 'owner_id'>,
  videoId: string,
  bookmarked: boolean,
  occurredAt: Date,
): Promise<string> {
  const event = change === 'added' ? collectionItemAdded : collectionItemRemoved;
  return emit(
    tx,
    event.create({
      aggregateId: bookmarkAggregateId(c.owner_id, videoId),
      payload: { collection_id: c.id, owner_id: c.owner_id, video_id: videoId, bookmarked },
      occurredAt,
    }),
  );
}
