// Every /api route states who may call it (`config.auth`); the boot fails for a route that does not.
// The platform checks the bearer token through an Authenticator that the accounts module supplies.
import type { FastifyInstance, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { DomainError } from '../errors/domain-error.ts';

export type AuthLevel = 'public' | 'optional' | 'user' | 'admin';

export interface Principal {
  userId: string;
  sessionId: string;
  role: 'user' | 'admin';
}

/**
 * Answers the caller of a token; at once when it can (a cache hit), so that most requests pay no promise.
 * The principal may be shared by all requests of a session: never change it.
 */
export type Authenticator = (token: string) => Principal | Promise<Principal>;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthLevel;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function requireAuthLevels(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1')) return;
    const level = (route.config as { auth?: AuthLevel } | undefined)?.auth;
    if (!level)
      throw new Error(`route ${route.method} ${route.url} does not state who may call it (config.auth)`);
  });
}

/**
 * Attaches the token check to each route that needs one, as a route-level hook chosen when the route
 * is registered: public routes pay nothing, and no request looks its level up again.
 * Call it before registering the routes it guards.
 */
export function installAuthGuard(app: FastifyInstance, authenticate: Authenticator): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const level = (route.config as { auth?: AuthLevel } | undefined)?.auth ?? 'public';
    if (level === 'public') return;
    const admit = (request: FastifyRequest, principal: Principal, done: HookHandlerDoneFunction) => {
      request.principal = principal;
      done(level === 'admin' && principal.role !== 'admin' ? new DomainError('ADMIN_REQUIRED') : undefined);
    };
    const guard: onRequestHookHandler = (request, _reply, done) => {
      let principal: Principal | Promise<Principal> | undefined;
      try {
        const token = bearerToken(request);
        principal = token ? authenticate(token) : undefined;
      } catch (err) {
        return done(err as Error);
      }
      if (!principal) return done(level === 'optional' ? undefined : new DomainError('TOKEN_MISSING'));
      if (principal instanceof Promise) principal.then((p) => admit(request, p, done), done);
      else admit(request, principal, done);
    };
    route.onRequest = [...[route.onRequest ?? []].flat(), guard];
  });
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new DomainError('TOKEN_INVALID', 'Authorization must be "Bearer <access token>"');
  return match[1];
}

/** The caller of a route whose level is `user` or `admin`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new DomainError('TOKEN_MISSING');
  return request.principal;
}
