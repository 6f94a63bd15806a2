import { z } from 'zod';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import type { AuditService } from '../audit/index.ts';
import { toAuditEntryDto } from './dto.ts';
import { auditEntryDto, auditQuery } from './schema.ts';

export function adminAuditRoutes(app: HttpServer, audit: AuditService): void {
  app.get('/api/v1/admin/audit', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'What administrators did, newest first: who, what, when, the object before and after',
      querystring: auditQuery,
      response: { 200: z.object({ items: z.array(auditEntryDto), next_cursor: z.string().nullable() }) },
    },
    handler: async (req) => {
      const { limit, cursor, actor_id, target_type, target_id } = req.query;
      const beforeId = cursor ? decodeCursor(cursor, z.tuple([z.uuid()]))[0] : undefined;
      const rows = await audit.list({
        limit: limit + 1,
        beforeId,
        actorId: actor_id,
        targetType: target_type,
        targetId: target_id,
      });
      const page = toPage(rows, limit, (e) => [e.id]);
      return { items: page.items.map(toAuditEntryDto), next_cursor: page.next_cursor };
    },
  });
}
