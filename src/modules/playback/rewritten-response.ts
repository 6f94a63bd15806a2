// Serves a playlist, manifest or storyboard with its URIs rewritten (playlist-rewrite.ts). The body
// differs from the stored object, so neither its validators nor byte ranges apply: it is sent whole,
// and it is never stored (it carries a token), so there is nothing to revalidate. Playlists are read
// whole: a few hundred kilobytes even for hours of video.
import { text } from 'node:stream/consumers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../platform/errors/domain-error.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';

export async function sendRewritten(
  request: FastifyRequest,
  reply: FastifyReply,
  store: ObjectStore,
  key: string,
  rewrite: (text: string) => string,
  cacheControl: string,
): Promise<FastifyReply> {
  const found = await store.get(key);
  if (!found) throw new DomainError('NOT_FOUND', 'No such media file');
  const body = Buffer.from(rewrite(await text(found.body)));
  reply.headers({
    'content-type': found.object.contentType,
    'content-length': body.length,
    'last-modified': found.object.lastModified.toUTCString(),
    'cache-control': cacheControl,
  });
  // Node sends no body in answer to HEAD; the length above still describes the GET.
  return reply.send(request.method === 'HEAD' ? undefined : body);
}
