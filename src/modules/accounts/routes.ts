import type { FastifyRequest } from 'fastify';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { toMeDto, toSelfDto, toTokensDto } from './dto.ts';
import {
  deleteAccountBody,
  displayNameBody,
  loginBody,
  meDto,
  passwordBody,
  refreshBody,
  registerBody,
  selfDto,
  tokensDto,
} from './schema.ts';
import type { AccountsService, ClientInfo } from './service.ts';

const tags = ['accounts'];
const limited = problemSchema.describe('Too many attempts (RATE_LIMITED); see Retry-After');

const clientOf = (req: FastifyRequest): ClientInfo => ({
  ip: req.ip,
  userAgent: req.headers['user-agent'] ?? null,
});

export function accountsRoutes(app: HttpServer, accounts: AccountsService): void {
  app.post('/api/v1/auth/register', {
    // Answers carry tokens: never kept for Idempotency-Key replays.
    config: { auth: 'public', idempotency: false },
    schema: {
      tags,
      summary: 'Create an account and sign in',
      body: registerBody,
      response: {
        201: tokensDto,
        409: problemSchema.describe('USERNAME_TAKEN or EMAIL_TAKEN'),
        429: limited,
      },
    },
    handler: async (req, reply) =>
      reply.status(201).send(toTokensDto(await accounts.register(req.body, clientOf(req)))),
  });

  app.post('/api/v1/auth/login', {
    // Answers carry tokens: never kept for Idempotency-Key replays.
    config: { auth: 'public', idempotency: false },
    schema: {
      tags,
      summary: 'Sign in with username or email and password',
      body: loginBody,
      response: {
        200: tokensDto,
        401: problemSchema.describe('INVALID_CREDENTIALS'),
        403: problemSchema.describe('ACCOUNT_HIDDEN'),
        429: limited,
      },
    },
    handler: async (req) => toTokensDto(await accounts.login(req.body, clientOf(req))),
  });

  app.post('/api/v1/auth/refresh', {
    // Answers carry tokens: never kept for Idempotency-Key replays.
    config: { auth: 'public', idempotency: false },
    schema: {
      tags,
      summary: 'Exchange a refresh token for new tokens (the old one stops working)',
      body: refreshBody,
      response: {
        200: tokensDto,
        401: problemSchema.describe('TOKEN_INVALID, TOKEN_EXPIRED, SESSION_REVOKED or REFRESH_TOKEN_REUSED'),
        403: problemSchema.describe('ACCOUNT_HIDDEN'),
      },
    },
    handler: async (req) => toTokensDto(await accounts.refresh(req.body.refresh_token)),
  });

  app.post('/api/v1/auth/logout', {
    config: { auth: 'user' },
    schema: { tags, summary: 'End the current session', response: { 204: noContent } },
    handler: async (req, reply) => {
      await accounts.logout(principalOf(req));
      return reply.status(204).send(null);
    },
  });

  app.get('/api/v1/users/me', {
    config: { auth: 'user' },
    schema: { tags, summary: 'The signed-in account', response: { 200: meDto } },
    handler: async (req) => {
      const principal = principalOf(req);
      const [user, extras] = await Promise.all([
        accounts.me(principal),
        accounts.selfExtras(principal.userId),
      ]);
      return toMeDto(user, extras);
    },
  });

  app.put('/api/v1/user/display-name', {
    config: { auth: 'user' },
    schema: { tags, summary: 'Change the display name', body: displayNameBody, response: { 200: selfDto } },
    handler: async (req) => toSelfDto(await accounts.setDisplayName(principalOf(req), req.body.display_name)),
  });

  app.put('/api/v1/user/password', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Change the password; every other session is ended',
      body: passwordBody,
      response: { 204: noContent },
    },
    handler: async (req, reply) => {
      await accounts.changePassword(principalOf(req), req.body.current_password, req.body.new_password);
      return reply.status(204).send(null);
    },
  });

  app.put('/api/v1/user/account/hide', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary:
        'Hide my account: every session ends and my channel and videos disappear; an administrator may restore it',
      response: { 204: noContent, 403: problemSchema.describe('PERMISSION_DENIED for an administrator') },
    },
    handler: async (req, reply) => {
      await accounts.hideOwnAccount(principalOf(req));
      return reply.status(204).send(null);
    },
  });

  app.delete('/api/v1/user/account', {
    config: { auth: 'user' },
    schema: {
      tags,
      summary: 'Delete my account for good, with my videos and their media (needs the current password)',
      body: deleteAccountBody,
      response: {
        204: noContent,
        401: problemSchema.describe('INVALID_CREDENTIALS (field password)'),
        403: problemSchema.describe('CANNOT_DELETE_SELF for an administrator'),
      },
    },
    handler: async (req, reply) => {
      await accounts.deleteOwnAccount(principalOf(req), req.body.password);
      return reply.status(204).send(null);
    },
  });
}
