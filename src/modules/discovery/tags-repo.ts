// SQL for tags and tag preferences; the only code that writes them.
import type { Generated, Selectable } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';

type TagsTable = {
  id: string;
  name: string;
  slug: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
};

type TagPreferencesTable = {
  user_id: string | null;
  session_id: string | null;
  tag_id: string;
  created_at: Generated<Date>;
};

export type TagsTables = { tags: TagsTable; tag_preferences: TagPreferencesTable };
export type TagRow = Selectable<TagsTable>;

/** Whose preferences: a signed-in user's, or a guest's opaque session id. */
export type Viewer = { userId: string } | { sessionId: string };

const q = (db: DbOrTx) => db.withTables<TagsTables>();

export function listTags(db: DbOrTx): Promise<TagRow[]> {
  return q(db).selectFrom('tags').selectAll().orderBy('name').execute();
}

export function findTag(db: DbOrTx, id: string): Promise<TagRow | undefined> {
  return q(db).selectFrom('tags').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findTagForUpdate(db: DbOrTx, id: string): Promise<TagRow | undefined> {
  return q(db).selectFrom('tags').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function findTagsByIds(db: DbOrTx, ids: string[]): Promise<TagRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return q(db).selectFrom('tags').selectAll().where('id', 'in', ids).execute();
}

/** Answers undefined when the name or slug is taken (the unique indexes decide, race-free). */
export async function insertTag(
  db: DbOrTx,
  row: { id: string; name: string; slug: string },
): Promise<TagRow | undefined> {
  return q(db)
    .insertInto('tags')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function updateTag(
  db: DbOrTx,
  id: string,
  patch: { name: string; slug: string },
): Promise<TagRow | undefined> {
  return q(db)
    .updateTable('tags')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteTag(db: DbOrTx, id: string): Promise<void> {
  await q(db).deleteFrom('tags').where('id', '=', id).execute();
}

const ofViewer = (viewer: Viewer) =>
  'userId' in viewer ? (['user_id', viewer.userId] as const) : (['session_id', viewer.sessionId] as const);

export function preferredTags(db: DbOrTx, viewer: Viewer): Promise<TagRow[]> {
  const [column, value] = ofViewer(viewer);
  return q(db)
    .selectFrom('tag_preferences as p')
    .innerJoin('tags as t', 't.id', 'p.tag_id')
    .selectAll('t')
    .where(`p.${column}`, '=', value)
    .orderBy('t.name')
    .execute();
}

/** Replaces a viewer's choice with these tags. */
export async function replacePreferences(db: DbOrTx, viewer: Viewer, tagIds: string[]): Promise<void> {
  const [column, value] = ofViewer(viewer);
  await q(db).deleteFrom('tag_preferences').where(column, '=', value).execute();
  if (tagIds.length === 0) return;
  await q(db)
    .insertInto('tag_preferences')
    .values(tagIds.map((tag_id) => ({ tag_id, [column]: value })))
    .execute();
}
