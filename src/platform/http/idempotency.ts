// Idempotency-Key on POST: a client that retries a create (a timeout, a dropped connection) gets the
// first answer again instead of a second resource. Every POST under /api/v1 takes the header unless its
// route says `config: { idempotency: false }` (tus and sign-in routes, whose answers carry tokens or
// depend on headers). Only JSON or empty bodies are covered: a multipart or streamed upload body is not
// read twice to be hashed, so the header is ignored there. Answers are kept 24 h, per caller (the user,
// or for anonymous callers the route), in idempotency_keys; server errors and 429 are never kept.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { DomainError } from '../errors/domain-error.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route ignores Idempotency-Key (its answers must never be replayed). */
    idempotency?: boolean;
  }
}

/** 1–255 visible ASCII characters. */
const KEY = /^[\x21-\x7e]{1,255}$/;
const TTL_HOURS = 24;
/** A claim this old with no answer belongs to a process that died: another request may take it. */
const ABANDONED_SECONDS = 300;
/** Answer headers a replay repeats; the rest (request id, dates) belong to each answer. */
const KEPT_HEADERS = ['content-type', 'location', 'etag'];

interface Claim {
  scope: string;
  key: string;
}

type Outcome =
  | { kind: 'claimed' }
  | { kind: 'reused' }
  | { kind: 'in_use' }
  | { kind: 'replay'; status: number; headers: Record<string, string>; body: string | null };

/** The hash a key's first request is kept under: method, path with query, body. */
export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method}\n${url}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

/** Whose key it is: the user's, or for anonymous calls the route's. */
export function callerScope(userId: string | undefined, method: string, route: string): string {
  return userId ? `user:${userId}` : `anon:${method} ${route}`;
}

export class IdempotencyStore {
  constructor(private readonly db: Db) {}

  /** Takes the key for this request, or says why not (another body, still running, answered). */
  async claim(scope: string, key: string, hash: string): Promise<Outcome> {
    // A row may disappear between the insert and the read (released after a 5xx): try again.
    for (let i = 0; i < 3; i++) {
      const claimed = await sql`
        insert into idempotency_keys as k (scope, key, request_hash, expires_at)
        values (${scope}, ${key}, ${hash}, now() + make_interval(hours => ${TTL_HOURS}))
        on conflict (scope, key) do update set
          request_hash = excluded.request_hash, status_code = null, headers = null, body = null,
          created_at = now(), expires_at = excluded.expires_at
        where k.expires_at <= now()
          or (k.status_code is null and k.created_at < now() - make_interval(secs => ${ABANDONED_SECONDS}))
        returning 1
      `.execute(this.db);
      if (claimed.rows.length) return { kind: 'claimed' };
      const { rows } = await sql<{
        request_hash: string;
        status_code: number | null;
        headers: Record<string, string> | null;
        body: string | null;
      }>`
        select request_hash, status_code, headers, body from idempotency_keys
        where scope = ${scope} and key = ${key} and expires_at > now()
      `.execute(this.db);
      const row = rows[0];
      if (!row) continue;
      if (row.request_hash !== hash) return { kind: 'reused' };
      if (row.status_code === null) return { kind: 'in_use' };
      return { kind: 'replay', status: row.status_code, headers: row.headers ?? {}, body: row.body };
    }
    return { kind: 'in_use' };
  }

  async complete(
    claim: Claim,
    status: number,
    headers: Record<string, string>,
    body: string | null,
  ): Promise<void> {
    await sql`
      update idempotency_keys set status_code = ${status}, headers = ${JSON.stringify(headers)}::jsonb,
        body = ${body}
      where scope = ${claim.scope} and key = ${claim.key}
    `.execute(this.db);
  }

  /** Forgets a claim whose answer is not kept, so that a retry runs the request again. */
  async release(claim: Claim): Promise<void> {
    await sql`
      delete from idempotency_keys where scope = ${claim.scope} and key = ${claim.key} and status_code is null
    `.execute(this.db);
  }

  /** Removes expired keys; run by a scheduled job. */
  async sweep(): Promise<number> {
    const result = await sql`delete from idempotency_keys where expires_at <= now()`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }
}

/**
 * Attaches the key handling to every POST route under /api/v1 that does not opt out, as route hooks
 * chosen when the route is registered. Call it after the auth guard (the caller is known by then) and
 * before registering the routes.
 */
export function installIdempotency(app: FastifyInstance, store: IdempotencyStore): void {
  const claims = new WeakMap<FastifyRequest, Claim>();

  const release = (request: FastifyRequest, claim: Claim) =>
    store.release(claim).catch((err) => request.log.warn({ err }, 'idempotency key release failed'));

  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!methods.includes('POST') || !route.url.startsWith('/api/v1')) return;
    if ((route.config as { idempotency?: boolean } | undefined)?.idempotency === false) return;
    const routeUrl = route.url;

    const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      const key = request.headers['idempotency-key'];
      if (key === undefined || request.method !== 'POST') return;
      if (typeof key !== 'string' || !KEY.test(key)) {
        throw new DomainError('VALIDATION_FAILED', 'Invalid header: Idempotency-Key', {
          fields: [{ field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }],
        });
      }
      const type = request.headers['content-type'];
      if (type !== undefined && !/^application\/json\b/i.test(type)) return;
      const scope = callerScope(request.principal?.userId, request.method, routeUrl);
      const outcome = await store.claim(scope, key, requestHash(request.method, request.url, request.body));
      switch (outcome.kind) {
        case 'claimed':
          claims.set(request, { scope, key });
          return;
        case 'reused':
          throw new DomainError('IDEMPOTENCY_KEY_REUSED');
        case 'in_use':
          throw new DomainError('IDEMPOTENCY_KEY_IN_USE', undefined, { headers: { 'retry-after': '1' } });
        case 'replay':
          reply.code(outcome.status).headers(outcome.headers).header('idempotent-replayed', 'true');
          // A Buffer is sent as stored: no serializer runs on it again.
          return reply.send(outcome.body === null ? undefined : Buffer.from(outcome.body));
      }
    };

    const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const claim = claims.get(request);
      if (!claim) return payload;
      claims.delete(request);
      const status = reply.statusCode;
      const text =
        payload === null || payload === undefined
          ? null
          : typeof payload === 'string'
            ? payload
            : Buffer.isBuffer(payload)
              ? payload.toString('utf8')
              : undefined;
      // Server errors and rate limits say "try again": keeping them would answer every retry with them.
      if (status >= 500 || status === 429 || text === undefined) {
        await release(request, claim);
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const name of KEPT_HEADERS) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      await store.complete(claim, status, headers, text).catch(async (err) => {
        request.log.warn({ err }, 'idempotency key answer not kept');
        await release(request, claim);
      });
      return payload;
    };

    // The answer was never sent (the client went away before the handler ended): free the key.
    const onResponse = async (request: FastifyRequest) => {
      const claim = claims.get(request);
      if (!claim) return;
      claims.delete(request);
      await release(request, claim);
    };

    route.preHandler = [...[route.preHandler ?? []].flat(), preHandler];
    route.onSend = [...[route.onSend ?? []].flat(), onSend];
    route.onResponse = [...[route.onResponse ?? []].flat(), onResponse];
  });
}
