// Reads of the videos table that uploads need (the videos module owns and writes it).
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';

/**
 * Bytes a user's videos take or have reserved: finished sources and the declared size of unfinished
 * uploads. A failed upload that never stored its source takes nothing. Served by videos_owner_id_idx.
 */
export async function usedBytes(db: DbOrTx, ownerId: string): Promise<number> {
  const { rows } = await sql<{ used: number }>`
    select coalesce(sum(source_size), 0)::int8 as used from videos
    where owner_id = ${ownerId} and not (status = 'failed' and source_key is null)`.execute(db);
  return rows[0]?.used ?? 0;
}

/** Serializes quota checks of one user until the transaction ends, so two uploads cannot both fit. */
export async function lockQuota(tx: DbOrTx, ownerId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`vireo.upload_quota:${ownerId}`}, 0))`.execute(
    tx,
  );
}

/** The status of a video, locked until the transaction ends; undefined when there is no such video. */
export async function lockStatus(tx: DbOrTx, id: string): Promise<string | undefined> {
  const { rows } = await sql<{ status: string }>`
    select status from videos where id = ${id} for update`.execute(tx);
  return rows[0]?.status;
}
