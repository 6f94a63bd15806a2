// The upload reservations this module owns, and the lock that serialises one user's quota checks.
// The videos table belongs to the videos module: what uploads needs of it goes through VideosService.
import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';

/** The room one-request uploads hold while they stream. Served by upload_reservations_owner_id_idx. */
export async function reservedBytes(db: DbOrTx, ownerId: string): Promise<number> {
  const { rows } = await sql<{ held: number }>`
    select coalesce(sum(bytes), 0)::int8 as held from upload_reservations
    where owner_id = ${ownerId} and expires_at > now()`.execute(db);
  return Number(rows[0]?.held ?? 0);
}

/** One-request uploads of a user still streaming. */
export async function reservationCount(db: DbOrTx, ownerId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from upload_reservations
    where owner_id = ${ownerId} and expires_at > now()`.execute(db);
  return rows[0]?.n ?? 0;
}

/** Serializes quota checks of one user until the transaction ends, so two uploads cannot both fit. */
export async function lockQuota(tx: DbOrTx, ownerId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`vireo.upload_quota:${ownerId}`}, 0))`.execute(
    tx,
  );
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
