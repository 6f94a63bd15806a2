import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * A secret generated once and kept in the database, so every node of one installation shares it
 * without configuration. An explicit setting (e.g. JWT_SECRET) always wins over it.
 */
export async function sharedSecret(
  db: Db,
  name: string,
  /** Makes a new value (a key pair as JSON…); 48 random bytes in base64url unless told. */
  generate: () => string = () => randomBytes(48).toString('base64url'),
): Promise<string> {
  const candidate = generate();
  await sql`insert into platform_secrets (name, value) values (${name}, ${candidate}) on conflict (name) do nothing`.execute(
    db,
  );
  const { rows } = await sql<{
    value: string;
  }>`select value from platform_secrets where name = ${name}`.execute(db);
  return rows[0]!.value;
}
