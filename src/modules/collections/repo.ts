// SQL of the collections module: the only code that writes collections and collection_items. It reads
// videos, video_stats and users (owned elsewhere) to show items; it never writes them.
import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx, Tx } from '../../platform/db/database.ts';
import { type SummaryRow, summaryColumns } from '../discovery/index.ts';
import { listable } from '../videos/index.ts';

export type CollectionKind = 'playlist' | 'watch_later';
export type CollectionVisibility = 'public' | 'private';

export interface CollectionRow {
  id: string;
  owner_id: string;
  kind: CollectionKind;
  name: string;
  description: string;
  visibility: CollectionVisibility;
  /** Every item (what counts toward the limit). */
  items_total: number;
  /** Items anyone may find in a list (what another user is shown). */
  items_listed: number;
  created_at: Date;
  updated_at: Date;
  /** created_at to the microsecond, for cursors (a Date keeps milliseconds only). */
  created_key: string;
  owner_status: 'active' | 'hidden' | 'deleted';
}

export const WATCH_LATER_NAME = 'Watch later';

/**
 * Serialises the changes of one owner's collections: the item limit, the collection limit and the
 * `bookmarked` flag of each event (in any of the owner's collections after the change) are then exact,
 * and the events of one bookmark leave in the order of their times.
 */
export async function lockOwner(tx: Tx, ownerId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`collections.owner:${ownerId}`}, 0))`.execute(tx);
}

/**
 * The time of a change, for its events: the database's clock (not the transaction's start, which may
 * precede the lock) to the millisecond, as events carry it. Taken under the owner's lock, then the
 * lock is held past that millisecond, so the next change of the owner's bookmarks gets a later time:
 * the viewer-state projection orders a bookmark's events by their times.
 */
export async function clockNow(tx: Tx): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`
    select date_trunc('milliseconds', clock_timestamp()) as now, pg_sleep(0.001)`.execute(tx);
  return rows[0]!.now;
}

const collectionColumns = sql`c.id, c.owner_id, c.kind, c.name, c.description, c.visibility, c.created_at,
  c.updated_at,
  to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_key, u.status as owner_status,
  (select count(*) from collection_items i where i.collection_id = c.id)::int as items_total,
  (select count(*) from collection_items i join videos v on v.id = i.video_id
    where i.collection_id = c.id and ${listable('v')})::int as items_listed`;

export async function findCollection(db: DbOrTx, id: string): Promise<CollectionRow | undefined> {
  const { rows } = await sql<CollectionRow>`select ${collectionColumns}
    from collections c join users u on u.id = c.owner_id where c.id = ${id}`.execute(db);
  return rows[0];
}

/** The owner's Watch later, made now if it was not yet (every user has one, made on first use). */
export async function ensureWatchLater(db: DbOrTx, ownerId: string, id: string): Promise<CollectionRow> {
  const find = async () => {
    const { rows } = await sql<CollectionRow>`select ${collectionColumns}
      from collections c join users u on u.id = c.owner_id
      where c.owner_id = ${ownerId} and c.kind = 'watch_later'`.execute(db);
    return rows[0];
  };
  const found = await find();
  if (found) return found;
  // Two first uses at once: the unique index keeps one, and both read it.
  await sql`insert into collections (id, owner_id, kind, name, visibility)
    values (${id}, ${ownerId}, 'watch_later', ${WATCH_LATER_NAME}, 'private')
    on conflict (owner_id) where kind = 'watch_later' do nothing`.execute(db);
  return (await find())!;
}

/** A user's collections, newest first; `publicOnly` for another user's. */
export async function listByOwner(
  db: DbOrTx,
  ownerId: string,
  opts: { publicOnly: boolean; limit: number; after?: [string, string] },
): Promise<CollectionRow[]> {
  const after = opts.after
    ? sql`and (c.created_at, c.id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)`
    : sql``;
  const visible = opts.publicOnly ? sql`and c.visibility = 'public'` : sql``;
  const { rows } = await sql<CollectionRow>`select ${collectionColumns}
    from collections c join users u on u.id = c.owner_id
    where c.owner_id = ${ownerId} ${visible} ${after}
    order by c.created_at desc, c.id desc
    limit ${opts.limit}`.execute(db);
  return rows;
}

export async function countByOwner(db: DbOrTx, ownerId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from collections where owner_id = ${ownerId}`.execute(db);
  return rows[0]?.n ?? 0;
}

export async function insertCollection(
  db: DbOrTx,
  row: { id: string; owner_id: string; name: string; description: string; visibility: CollectionVisibility },
): Promise<void> {
  await sql`insert into collections (id, owner_id, kind, name, description, visibility)
    values (${row.id}, ${row.owner_id}, 'playlist', ${row.name}, ${row.description}, ${row.visibility})`.execute(
    db,
  );
}

export async function updateCollection(
  db: DbOrTx,
  id: string,
  patch: { name?: string; description?: string; visibility?: CollectionVisibility },
): Promise<void> {
  await sql`update collections set
      name = coalesce(${patch.name ?? null}, name),
      description = coalesce(${patch.description ?? null}, description),
      visibility = coalesce(${patch.visibility ?? null}, visibility),
      updated_at = now()
    where id = ${id}`.execute(db);
}

/** A change to the items shows in the collection's updated_at. */
export async function touchCollection(db: DbOrTx, id: string): Promise<void> {
  await sql`update collections set updated_at = now() where id = ${id}`.execute(db);
}

/** Removes the collection and its items; answers the videos it held. */
export async function deleteCollection(db: DbOrTx, id: string): Promise<string[]> {
  const { rows } = await sql<{ video_id: string }>`
    delete from collection_items where collection_id = ${id} returning video_id`.execute(db);
  await sql`delete from collections where id = ${id}`.execute(db);
  return rows.map((r) => r.video_id);
}

export async function countItems(db: DbOrTx, collectionId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from collection_items where collection_id = ${collectionId}`.execute(db);
  return rows[0]?.n ?? 0;
}

export async function hasItem(db: DbOrTx, collectionId: string, videoId: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`select exists (select 1 from collection_items
    where collection_id = ${collectionId} and video_id = ${videoId}) as found`.execute(db);
  return rows[0]?.found ?? false;
}

/** The items' ids and positions, in order. */
export async function orderOf(
  db: DbOrTx,
  collectionId: string,
): Promise<Array<{ video_id: string; position: number }>> {
  const { rows } = await sql<{ video_id: string; position: number }>`
    select video_id, position from collection_items where collection_id = ${collectionId}
    order by position, video_id`.execute(db);
  return rows;
}

export async function lastPosition(db: DbOrTx, collectionId: string): Promise<number | null> {
  const { rows } = await sql<{ last: number | null }>`
    select max(position) as last from collection_items where collection_id = ${collectionId}`.execute(db);
  return rows[0]?.last ?? null;
}

export async function insertItem(
  db: DbOrTx,
  collectionId: string,
  videoId: string,
  position: number,
): Promise<void> {
  await sql`insert into collection_items (collection_id, video_id, position)
    values (${collectionId}, ${videoId}, ${position})`.execute(db);
}

/** Answers whether the item was there. */
export async function deleteItem(db: DbOrTx, collectionId: string, videoId: string): Promise<boolean> {
  const result = await sql`delete from collection_items
    where collection_id = ${collectionId} and video_id = ${videoId}`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

export async function setPosition(
  db: DbOrTx,
  collectionId: string,
  videoId: string,
  position: number,
): Promise<void> {
  await sql`update collection_items set position = ${position}
    where collection_id = ${collectionId} and video_id = ${videoId}`.execute(db);
}

/** Writes every item's position in one statement. */
export async function setPositions(
  db: DbOrTx,
  collectionId: string,
  videoIds: string[],
  positions: number[],
): Promise<void> {
  await sql`update collection_items i set position = p.position
    from unnest(${videoIds}::uuid[], ${positions}::float8[]) as p (video_id, position)
    where i.collection_id = ${collectionId} and i.video_id = p.video_id`.execute(db);
}

/** Of `videoIds`, those still in any of the owner's collections. */
export async function stillBookmarked(db: DbOrTx, ownerId: string, videoIds: string[]): Promise<Set<string>> {
  if (videoIds.length === 0) return new Set();
  const { rows } = await sql<{ video_id: string }>`
    select distinct i.video_id from collection_items i join collections c on c.id = i.collection_id
    where c.owner_id = ${ownerId} and i.video_id = any(${videoIds}::uuid[])`.execute(db);
  return new Set(rows.map((r) => r.video_id));
}

export type ItemRow = SummaryRow & { position: number; added_at: Date };

/**
 * A collection's items in order, after the cursor's (position, video_id), that `shown` lets through
 * (a condition over the videos table under alias `v`).
 */
export async function listItems(
  db: DbOrTx,
  collectionId: string,
  shown: RawBuilder<boolean>,
  opts: { limit: number; after?: [number, string]; videoId?: string },
): Promise<ItemRow[]> {
  const after = opts.after
    ? sql`and (i.position, i.video_id) > (${opts.after[0]}::float8, ${opts.after[1]}::uuid)`
    : sql``;
  const one = opts.videoId ? sql`and i.video_id = ${opts.videoId}` : sql``;
  const { rows } = await sql<ItemRow>`select ${summaryColumns}, i.position, i.added_at
    from collection_items i
    join videos v on v.id = i.video_id
    left join video_stats s on s.video_id = v.id
    where i.collection_id = ${collectionId} and ${shown} ${after} ${one}
    order by i.position, i.video_id
    limit ${opts.limit}`.execute(db);
  return rows;
}
