import { z } from 'zod';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, pageQuery, toPage } from '../../platform/http/pagination.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { type AccountsService, accountStatus, role, selfDto, toSelfDto } from '../accounts/index.ts';

const tags = ['admin'];

const userPatch = z
  .object({ status: accountStatus.optional(), role: role.optional() })
  .refine((p) => p.status !== undefined || p.role !== undefined, {
    message: 'give status or role',
    path: ['status'],
  });

export function adminRoutes(app: HttpServer, accounts: AccountsService): void {
  app.get('/api/v1/admin/users', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'List accounts, newest first',
      querystring: pageQuery.extend({ status: accountStatus.optional() }),
      response: { 200: z.object({ items: z.array(selfDto), next_cursor: z.string().nullable() }) },
    },
    handler: async (req) => {
      const { limit, cursor, status } = req.query;
      const beforeId = cursor ? decodeCursor(cursor, z.tuple([z.uuid()]))[0] : undefined;
      const rows = await accounts.listUsers({ limit: limit + 1, beforeId, status });
      const page = toPage(rows, limit, (u) => [u.id]);
      return { items: page.items.map(toSelfDto), next_cursor: page.next_cursor };
    },
  });

  app.patch('/api/v1/admin/users/:id', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'Hide, delete, restore, promote or demote an account',
      params: z.object({ id: z.uuid() }),
      body: userPatch,
      response: { 200: selfDto, 404: problemSchema.describe('USER_NOT_FOUND') },
    },
    handler: async (req) =>
      toSelfDto(await accounts.updateByAdmin(principalOf(req), req.params.id, req.body)),
  });
}
