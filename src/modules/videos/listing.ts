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
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  return sql<boolean>`(${col('publication')} = 'published' and not ${col('hidden')}
    and ${col('visibility')} = 'public' and ${col('playback_version')} is not null
    and exists (select 1 from users listing_owner
      where listing_owner.id = ${col('owner_id')} and listing_owner.status = 'active'))`;
}
