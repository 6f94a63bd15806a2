// SQL for the accounts tables (users, sessions, refresh_tokens); the only code that writes them.
import { type Generated, type Selectable, sql } from 'kysely';
import type { Db, DbOrTx } from '../../platform/db/database.ts';

type UsersTable = {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  display_name: string;
  role: 'user' | 'admin';
  status: 'active' | 'hidden' | 'deleted';
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
};

type SessionsTable = {
  id: string;
  user_id: string;
  created_at: Generated<Date>;
  last_used_at: Generated<Date>;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
  user_agent: string | null;
  ip: string | null;
};

type RefreshTokensTable = {
  id: string;
  session_id: string;
  token_hash: Buffer;
  created_at: Generated<Date>;
  used_at: Date | null;
};

export type AccountsTables = {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
};

export type UserRow = Selectable<UsersTable>;

const q = (db: DbOrTx) => db.withTables<AccountsTables>();

export async function insertUser(
  db: DbOrTx,
  row: Omit<UserRow, 'created_at' | 'updated_at'>,
): Promise<UserRow> {
  return q(db).insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findUserById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  return q(db).selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByLogin(
  db: DbOrTx,
  by: { username?: string; email?: string },
): Promise<UserRow | undefined> {
  const query = q(db).selectFrom('users').selectAll();
  return by.email !== undefined
    ? query.where(sql`lower(email)`, '=', by.email.toLowerCase()).executeTakeFirst()
    : query.where(sql`lower(username)`, '=', (by.username ?? '').toLowerCase()).executeTakeFirst();
}

export async function anyAdminExists(db: DbOrTx): Promise<boolean> {
  const row = await q(db)
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function lockUser(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  return q(db).selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateUser(
  db: DbOrTx,
  id: string,
  patch: Partial<Pick<UserRow, 'display_name' | 'email' | 'password_hash' | 'role' | 'status'>>,
): Promise<UserRow | undefined> {
  return q(db)
    .updateTable('users')
    .set({ ...patch, updated_at: sql`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export interface UserFilter {
  status?: UserRow['status'];
  role?: UserRow['role'];
  /** A piece of the username, display name or email, any case. */
  text?: string;
}

/** Newest first; keyset on the time-ordered UUIDv7 id. */
export async function listUsers(db: Db, opts: UserFilter & { limit: number; beforeId?: string }) {
  let query = q(db).selectFrom('users').selectAll().orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId) query = query.where('id', '<', opts.beforeId);
  if (opts.status) query = query.where('status', '=', opts.status);
  if (opts.role) query = query.where('role', '=', opts.role);
  if (opts.text) {
    // The expression of users_search_idx (migration 0011), so the trigram index serves it.
    const pattern = `%${escapeLike(opts.text)}%`;
    query = query.where(
      sql<boolean>`lower(username || E'\\n' || display_name || E'\\n' || email) like lower(${pattern})`,
    );
  }
  return query.execute();
}

/**
 * Active accounts among `names` (any case), as lower-case username and id; served by users_username_key,
 * the index on lower(username).
 */
export async function activeIdsByUsername(
  db: DbOrTx,
  names: string[],
): Promise<Array<{ name: string; id: string }>> {
  if (names.length === 0) return [];
  const lower = names.map((n) => n.toLowerCase());
  return q(db)
    .selectFrom('users')
    .select([sql<string>`lower(username)`.as('name'), 'id'])
    .where(sql`lower(username)`, '=', sql<string>`any(${lower}::text[])`)
    .where('status', '=', 'active')
    .execute();
}

/** `like` treats % and _ as wildcards and \ as their escape: searched for, they stand for themselves. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function insertSession(
  db: DbOrTx,
  row: { id: string; user_id: string; expires_at: Date; user_agent: string | null; ip: string | null },
): Promise<void> {
  await q(db).insertInto('sessions').values(row).execute();
}

/** The one query behind every authenticated request: the session and its user together. */
export async function findSessionWithUser(db: DbOrTx, sessionId: string, userId: string) {
  return q(db)
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .selectAll('u')
    .select(['s.revoked_at', 's.expires_at'])
    .where('s.id', '=', sessionId)
    .where('s.user_id', '=', userId)
    .executeTakeFirst();
}

/** Whether the user holds a live session opened from `ip`. */
export async function hasLiveSessionFrom(db: DbOrTx, userId: string, ip: string): Promise<boolean> {
  const row = await q(db)
    .selectFrom('sessions')
    .select('id')
    // The predicate of sessions_user_id_idx, so that index serves the query.
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('ip', '=', ip)
    .where('expires_at', '>', sql<Date>`now()`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function revokeSession(db: DbOrTx, sessionId: string, reason: string): Promise<void> {
  await q(db)
    .updateTable('sessions')
    .set({ revoked_at: sql`now()`, revoked_reason: reason })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function revokeUserSessions(db: DbOrTx, userId: string, reason: string, exceptId?: string) {
  let query = q(db)
    .updateTable('sessions')
    .set({ revoked_at: sql`now()`, revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (exceptId) query = query.where('id', '!=', exceptId);
  await query.execute();
}

export async function extendSession(db: DbOrTx, sessionId: string, expiresAt: Date): Promise<void> {
  await q(db)
    .updateTable('sessions')
    .set({ last_used_at: sql`now()`, expires_at: expiresAt })
    .where('id', '=', sessionId)
    .execute();
}

export async function insertRefreshToken(
  db: DbOrTx,
  row: { id: string; session_id: string; token_hash: Buffer },
) {
  await q(db).insertInto('refresh_tokens').values(row).execute();
}

/** Locks the token row so two refreshes of one token are decided one after the other. */
export async function lockRefreshToken(db: DbOrTx, tokenHash: Buffer) {
  return q(db)
    .selectFrom('refresh_tokens as t')
    .innerJoin('sessions as s', 's.id', 't.session_id')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      't.id',
      't.used_at',
      't.session_id',
      's.revoked_at',
      's.expires_at',
      'u.id as user_id',
      'u.status',
    ])
    .where('t.token_hash', '=', tokenHash)
    .forUpdate('t')
    .executeTakeFirst();
}

export async function markRefreshTokenUsed(db: DbOrTx, id: string): Promise<void> {
  await q(db).updateTable('refresh_tokens').set({ used_at: sql`now()` }).where('id', '=', id).execute();
}
