import { z } from 'zod';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { type AccountsService, selfDto, toSelfDto, type UserRow } from '../accounts/index.ts';
import {
  createUserBody,
  idParams,
  optionalReasonBody,
  updateUserBody,
  userListQuery,
  userPatch,
} from './schema.ts';
import type { AdminService } from './service.ts';

const tags = ['admin'];
const notFound = problemSchema.describe('USER_NOT_FOUND');
const deleted = problemSchema.describe('ACCOUNT_DELETED: a deleted account stays deleted');
const self = problemSchema.describe('PERMISSION_DENIED (hiding or demoting oneself) or CANNOT_DELETE_SELF');

export function adminUsersRoutes(app: HttpServer, accounts: AccountsService, admin: AdminService): void {
  app.get('/api/v1/admin/users', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'List accounts, newest first, by status, role or a piece of their name or email',
      querystring: userListQuery,
      response: { 200: z.object({ items: z.array(selfDto), next_cursor: z.string().nullable() }) },
    },
    handler: async (req) => {
      const { limit, cursor, hidden, role, q } = req.query;
      const beforeId = cursor ? decodeCursor(cursor, z.tuple([z.uuid()]))[0] : undefined;
      const status = req.query.status ?? (hidden && (hidden === 'true' ? 'hidden' : 'active'));
      const rows = await accounts.listUsers({ limit: limit + 1, beforeId, status, role, text: q });
      const page = toPage(rows, limit, (u) => [u.id]);
      return { items: page.items.map(toSelfDto), next_cursor: page.next_cursor };
    },
  });

  app.get('/api/v1/admin/users/:id', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'An account, whatever its status',
      params: idParams,
      response: { 200: selfDto, 404: notFound },
    },
    handler: async (req) => toSelfDto(await accounts.getUser(req.params.id)),
  });

  app.post('/api/v1/admin/users', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'Create an account (with its channel, as registering does)',
      body: createUserBody,
      response: { 201: selfDto, 409: problemSchema.describe('USERNAME_TAKEN or EMAIL_TAKEN') },
    },
    handler: async (req, reply) =>
      reply.status(201).send(toSelfDto(await admin.createUser(principalOf(req), req.body))),
  });

  app.put('/api/v1/admin/users/:id', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: "Change an account's display name, email or role",
      params: idParams,
      body: updateUserBody,
      response: {
        200: selfDto,
        403: self,
        404: notFound,
        409: problemSchema.describe('EMAIL_TAKEN or ACCOUNT_DELETED'),
      },
    },
    handler: async (req) => toSelfDto(await admin.updateUser(principalOf(req), req.params.id, req.body)),
  });

  app.put('/api/v1/admin/users/:id/hide', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'Hide an account: its sessions end; its channel and videos disappear for everyone else',
      params: idParams,
      body: optionalReasonBody,
      response: { 200: selfDto, 403: self, 404: notFound, 409: deleted },
    },
    handler: async (req) =>
      toSelfDto(await admin.hideUser(principalOf(req), req.params.id, req.body?.reason ?? null)),
  });

  app.put('/api/v1/admin/users/:id/restore', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'Restore a hidden account, with its channel and videos',
      params: idParams,
      body: optionalReasonBody,
      response: { 200: selfDto, 404: notFound, 409: deleted },
    },
    handler: async (req) =>
      toSelfDto(await admin.restoreUser(principalOf(req), req.params.id, req.body?.reason ?? null)),
  });

  app.delete('/api/v1/admin/users/:id', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'Delete an account for good: its sessions end, its videos and their media are removed',
      params: idParams,
      body: optionalReasonBody,
      response: { 204: noContent, 403: self, 404: notFound },
    },
    handler: async (req, reply) => {
      await admin.deleteUser(principalOf(req), req.params.id, req.body?.reason ?? null);
      return reply.status(204).send(null);
    },
  });

  app.patch('/api/v1/admin/users/:id', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: 'Hide, delete, restore, promote or demote an account (the older form of the routes above)',
      params: idParams,
      body: userPatch,
      response: { 200: selfDto, 403: self, 404: notFound, 409: deleted },
    },
    handler: async (req) => {
      const { id } = req.params;
      const { status, role } = req.body;
      const by = principalOf(req);
      // The status first: what an administrator may not do to themself is refused before any change.
      let user: UserRow | undefined;
      if (status === 'hidden') user = await admin.hideUser(by, id, null);
      if (status === 'active') user = await admin.restoreUser(by, id, null);
      if (status === 'deleted') user = await admin.deleteUser(by, id, null);
      if (role) user = await admin.updateUser(by, id, { role });
      return toSelfDto(user!);
    },
  });
}
