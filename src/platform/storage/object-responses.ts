// Serves a stored object over HTTP: GET and HEAD, conditional requests (RFC 9110 §13) and one byte
// range (§14), streaming the body from the store without holding it in memory.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../errors/domain-error.ts';
import { parseRange } from './byte-ranges.ts';
import type { ObjectStore, StoredObject } from './object-store.ts';

export interface ObjectResponseOptions {
  cacheControl: string;
  /**
   * For files that never change: a GET is answered with a redirect to the store's own URL for the
   * object (S3 presigned), valid this many seconds, so the bytes do not pass through Vireo. Stores
   * without such URLs, and HEAD requests (a presigned GET does not sign them), are served here.
   */
  redirectTtlSeconds?: number;
}

/** Attempts when the object is replaced between reading its size and opening it (a growing playlist). */
const ATTEMPTS = 3;

export async function sendObject(
  request: FastifyRequest,
  reply: FastifyReply,
  store: ObjectStore,
  key: string,
  opts: ObjectResponseOptions,
): Promise<FastifyReply> {
  if (opts.redirectTtlSeconds !== undefined && request.method === 'GET') {
    const url = await store.presignGet(key, opts.redirectTtlSeconds);
    if (url) return redirect(reply, url, opts);
  }
  const headers = request.headers;
  for (let attempt = 1; ; attempt++) {
    const object = await store.stat(key);
    if (!object) throw new DomainError('NOT_FOUND', 'No such media file');
    if (notModified(headers['if-none-match'], headers['if-modified-since'], object)) {
      return reply.status(304).headers(validators(object, opts)).send();
    }
    // Range is defined for GET only; a HEAD describes the whole object.
    const wanted =
      request.method === 'GET' && rangeStillApplies(single(headers['if-range']), object)
        ? parseRange(headers.range, object.size)
        : null;
    if (wanted === 'unsatisfiable') {
      throw new DomainError('RANGE_NOT_SATISFIABLE', `The file has ${object.size} bytes`, {
        headers: { 'content-range': `bytes */${object.size}` },
      });
    }
    if (request.method === 'HEAD') {
      return reply.headers(entityHeaders(object, opts)).header('content-length', object.size).send();
    }

    let found: Awaited<ReturnType<ObjectStore['get']>>;
    try {
      found = await store.get(key, wanted ?? undefined);
    } catch (err) {
      // The object shrank after stat: the range was computed for other bytes.
      if (err instanceof RangeError && attempt < ATTEMPTS) continue;
      throw err;
    }
    if (!found) throw new DomainError('NOT_FOUND', 'No such media file');
    const { object: current, body } = found;
    if (wanted && current.etag !== object.etag && attempt < ATTEMPTS) {
      body.destroy();
      continue;
    }
    reply.headers(entityHeaders(current, opts));
    if (!wanted) return reply.header('content-length', current.size).send(body);
    const end = Math.min(wanted.end, current.size - 1);
    return reply
      .status(206)
      .header('content-range', `bytes ${wanted.start}-${end}/${current.size}`)
      .header('content-length', end - wanted.start + 1)
      .send(body);
  }
}

/**
 * Not checked against the store first: a missing object answers 404 from the store's URL. The redirect
 * may be kept for half the URL's life, as shareable as the object itself.
 */
function redirect(reply: FastifyReply, url: string, opts: ObjectResponseOptions): FastifyReply {
  const scope = opts.cacheControl.startsWith('public') ? 'public' : 'private';
  const maxAge = Math.floor((opts.redirectTtlSeconds ?? 0) / 2);
  return reply.header('cache-control', `${scope}, max-age=${maxAge}`).redirect(url, 302);
}

function validators(object: StoredObject, opts: ObjectResponseOptions): Record<string, string> {
  return {
    etag: object.etag,
    'last-modified': object.lastModified.toUTCString(),
    'cache-control': opts.cacheControl,
  };
}

function entityHeaders(object: StoredObject, opts: ObjectResponseOptions): Record<string, string> {
  return { ...validators(object, opts), 'content-type': object.contentType, 'accept-ranges': 'bytes' };
}

/** If-None-Match uses the weak comparison; If-Modified-Since counts only without it (§13.1.3). */
function notModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  object: StoredObject,
): boolean {
  if (ifNoneMatch !== undefined) {
    const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
    const ours = opaque(object.etag);
    return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === ours);
  }
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  // HTTP dates have whole seconds.
  return !Number.isNaN(since) && Math.floor(object.lastModified.getTime() / 1000) * 1000 <= since;
}

/** If-Range: the range counts only while the client's copy is current, with the strong comparison. */
function rangeStillApplies(ifRange: string | undefined, object: StoredObject): boolean {
  if (ifRange === undefined) return true;
  const given = ifRange.trim();
  if (given.startsWith('"') || given.startsWith('W/')) return given === object.etag;
  return given === object.lastModified.toUTCString();
}

/** Node types headers it does not know as possibly repeated. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
