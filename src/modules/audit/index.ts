// Audit: a record of every administrator action (who, what, when, the object before and after),
// written in the transaction of the action so that no action goes unrecorded. Only this module writes
// the audit_log table.
import { uuidv7 } from 'uuidv7';
import type { Db, DbOrTx } from '../../platform/db/database.ts';
import { defineModule } from '../../platform/modules/define-module.ts';
import { type AuditRow, insertEntry, listEntries } from './repo.ts';

export type { AuditRow } from './repo.ts';

export interface AuditEntry {
  /** The administrator (null for the system). */
  actorId: string | null;
  /** `user.hide`, `video.reject`, `tag.create`… */
  action: string;
  targetType: string;
  targetId: string;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
}

export class AuditService {
  constructor(private readonly db: Db) {}

  /** Records an action in the caller's transaction: it exists exactly when the action committed. */
  async record(tx: DbOrTx, entry: AuditEntry): Promise<void> {
    await insertEntry(tx, {
      id: uuidv7(),
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      reason: entry.reason ?? null,
      before: entry.before ?? null,
      after: entry.after ?? null,
    });
  }

  async list(opts: {
    limit: number;
    beforeId?: string;
    actorId?: string;
    targetType?: string;
    targetId?: string;
  }): Promise<AuditRow[]> {
    return listEntries(this.db, opts);
  }
}

declare module '../../platform/modules/define-module.ts' {
  interface ModuleServices {
    audit: AuditService;
  }
}

export const auditModule = defineModule({
  name: 'audit',
  setup(ctx) {
    return { service: new AuditService(ctx.db) };
  },
});
