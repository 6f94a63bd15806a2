// Reads of the videos table that uploads need (the videos module owns and writes it), and the upload
// reservations this module owns.
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';

/**
 * Bytes a user's videos take or have reserved: finished sources, the declared size of unfinished
 * uploads, and the room one-request uploads hold while they stream. A failed upload that never stored
 * its source takes nothing. Served by videos_owner_id_idx and upload_reservations_owner_id_idx.
 */
export async function usedBytes(db: DbOrTx, ownerId: string): Promise<number> {
  const { rows } = await sql<{ used: number }>`
    select (
      (select coalesce(sum(source_size), 0) from videos
        where owner_id = ${ownerId} and not (status = 'failed' and source_key is null))
      + (select coalesce(sum(bytes), 0) from upload_reservations
        where owner_id = ${ownerId} and expires_at > now())
    )::int8 as used`.execute(db);
  return rows[0]?.used ?? 0;
}

/** Uploads of a user not finished yet: tus uploads receiving bytes and one-request uploads streaming. */
export async function unfinishedUploads(db: DbOrTx, ownerId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select (
      (select count(*) from videos where owner_id = ${ownerId} and status = 'uploading')
      + (select count(*) from upload_reservations where owner_id = ${ownerId} and expires_at > now())
    )::int as n`.execute(db);
  return rows[0]?.n ?? 0;
}

/** Serializes quota checks of one user until the transaction ends, so two uploads cannot both fit. */
export async function lockQuota(tx: DbOrTx, ownerId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`vireo.upload_quota:${ownerId}`}, 0))`.execute(
    tx,
  );
}

/** The status of a video, locked until the transaction ends; undefined when there is no such video. */
export async function lockStatus(tx: DbOrTx, id: string): Promise<string | undefined> {
  return (await lockVideo(tx, id))?.status;
}

/** A video's status and size, locked until the transaction ends; undefined when there is no such video. */
export async function lockVideo(
  tx: DbOrTx,
  id: string,
): Promise<{ status: string; source_size: number | null } | undefined> {
  const { rows } = await sql<{ status: string; source_size: number | null }>`
    select status, source_size from videos where id = ${id} for update`.execute(tx);
  return rows[0];
}

/** Videos still uploading that were registered longer ago than this. */
export async function uploadingSince(db: DbOrTx, seconds: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from videos
    where status = 'uploading' and created_at < now() - make_interval(secs => ${seconds})`.execute(db);
  return rows.map((r) => r.id);
}

export async function insertReservation(
  db: DbOrTx,
  r: { id: string; ownerId: string; bytes: number; ttlSeconds: number },
): Promise<void> {
  await sql`
    insert into upload_reservations (id, owner_id, bytes, expires_at)
    values (${r.id}, ${r.ownerId}, ${r.bytes}, now() + make_interval(secs => ${r.ttlSeconds}))`.execute(db);
}

export async function deleteReservation(db: DbOrTx, id: string): Promise<void> {
  await sql`delete from upload_reservations where id = ${id}`.execute(db);
}

/** Removes reservations that count no more; answers how many. */
export async function deleteExpiredReservations(db: DbOrTx): Promise<number> {
  const result = await sql`delete from upload_reservations where expires_at <= now()`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
