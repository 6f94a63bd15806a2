// SQL for the audit log; the only code that writes it.
import type { Generated, Selectable } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.ts';

type AuditTable = {
  id: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  reason: string | null;
  before: unknown;
  after: unknown;
  created_at: Generated<Date>;
};

export type AuditTables = { audit_log: AuditTable };
export type AuditRow = Selectable<AuditTable>;

const q = (db: DbOrTx) => db.withTables<AuditTables>();
// biome-ignore lint/suspicious/noExplicitAny: pg sends a JSON string; Kysely's column type stays the value
const jsonb = (value: unknown): any => (value === undefined || value === null ? null : JSON.stringify(value));

export async function insertEntry(db: DbOrTx, row: Omit<AuditRow, 'created_at'>): Promise<void> {
  await q(db)
    .insertInto('audit_log')
    .values({ ...row, before: jsonb(row.before), after: jsonb(row.after) })
    .execute();
}

export async function listEntries(
  db: DbOrTx,
  opts: { limit: number; beforeId?: string; actorId?: string; targetType?: string; targetId?: string },
): Promise<AuditRow[]> {
  let query = q(db).selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId) query = query.where('id', '<', opts.beforeId);
  if (opts.actorId) query = query.where('actor_id', '=', opts.actorId);
  if (opts.targetType) query = query.where('target_type', '=', opts.targetType);
  if (opts.targetId) query = query.where('target_id', '=', opts.targetId);
  return query.execute();
}
