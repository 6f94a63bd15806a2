// The access rule for lists, in SQL: the same as access.ts says for one video and an anonymous caller
// (hidden → published → visibility → a playable version → an active owner). Search, channel pages,
// recommendations and feeds all filter with it, so none lists what a stranger may not see. Members-only
// videos are listed (their tier is shown); watching them is the tier check's business.
import { type RawBuilder, sql } from 'kysely';

/**
 * `where` condition over the videos table under alias `alias`: videos anyone may find in a list.
 * Reads the owners' status from `users` (owned by accounts; read here, never written).
 */
export function listable(alias = 'videos'): RawBuilder<boolean> {
  return sql<boolean>`(${listableRow(alias)} and ${activeOwner(sql.ref(`${alias}.owner_id`))})`;
}

/**
 * `listable` but for the owner's status: only for queries that read the videos of owners they have
 * already checked active (`activeOwner`), where checking it again per video would double their cost.
 */
export function listableRow(alias = 'videos'): RawBuilder<boolean> {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  return sql<boolean>`(${col('publication')} = 'published' and not ${col('hidden')}
    and ${col('visibility')} = 'public' and ${col('playback_version')} is not null)`;
}

/** The owner's half of `listable`: `ownerId` (a column reference) names an active account. */
export function activeOwner(ownerId: RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`exists (select 1 from users listing_owner
    where listing_owner.id = ${ownerId} and listing_owner.status = 'active')`;
}

/**
 * `where` condition over the videos table under alias `alias`: videos the signed-in `userId` may see, as
 * `canSee` says for one video: what anyone may find (`listable`), unlisted ones whose link they hold
 * (say, they put it in a playlist of their own), and their own in any state. For lists of things a user
 * chose (their Watch later, their history), never for lists shown to others.
 */
export function seeableBy(alias: string, userId: string): RawBuilder<boolean> {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  return sql<boolean>`(${col('owner_id')} = ${userId}
    or (${col('publication')} = 'published' and not ${col('hidden')}
      and ${col('visibility')} in ('public', 'unlisted') and ${col('playback_version')} is not null
      and exists (select 1 from users listing_owner
        where listing_owner.id = ${col('owner_id')} and listing_owner.status = 'active')))`;
}
