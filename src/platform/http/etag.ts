// Revalidation of JSON answers: an entity tag from what the answer shows, and If-None-Match → 304.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A strong entity tag of a value (a hash of its JSON). */
export function etagOf(value: unknown): string {
  return `"${createHash('sha1').update(JSON.stringify(value)).digest('base64url')}"`;
}

/** Whether If-None-Match names this entity tag (a list of tags, weak ones, or `*`). */
export function ifNoneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const tags = [header]
    .flat()
    .flatMap((h) => h.split(','))
    .map((t) => t.trim().replace(/^W\//, ''));
  return tags.includes(etag) || tags.includes('*');
}

/**
 * Sets ETag and Cache-Control (clients must revalidate); answers whether the client's copy is current,
 * in which case the route answers 304 without a body.
 */
export function isNotModified(
  req: FastifyRequest,
  reply: FastifyReply,
  etag: string,
  cacheControl = 'no-cache',
): boolean {
  reply.header('etag', etag).header('cache-control', cacheControl);
  return ifNoneMatch(req.headers['if-none-match'], etag);
}
