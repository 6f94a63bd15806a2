import type { AuditRow } from '../audit/index.ts';

export function toAuditEntryDto(e: AuditRow) {
  return {
    id: e.id,
    actor_id: e.actor_id,
    action: e.action,
    target_type: e.target_type,
    target_id: e.target_id,
    reason: e.reason,
    before: e.before ?? null,
    after: e.after ?? null,
    created_at: e.created_at.toISOString(),
  };
}
