// The tus routes. Fastify authenticates, checks what tus leaves to us (version, content type, owner,
// size and quota) and answers those with problem+json; then the raw request goes to the tus server,
// which reads the body straight from the socket.
import type { ServerResponse } from 'node:http';
import { Metadata } from '@tus/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sendNodeResponse } from 'srvx/node';
import { z } from 'zod';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import { type HttpServer, noContent } from '../../platform/http/server.ts';
import { CHECKSUM_ALGORITHMS, type ExpectedChecksum, parseChecksum } from './checksum.ts';
import type { UploadsService } from './service.ts';
import { type Admission, type Creation, TUS_PATH, TUS_VERSION, type TusEndpoint } from './tus.ts';
import { type DeferredLimit, invalid, offsetInvalid, unsupported } from './tus-errors.ts';

const tags = ['uploads'];
const idParams = z.object({ id: z.string() });
const problem = (codes: string) => problemSchema.describe(codes);
const OFFSET_STREAM = 'application/offset+octet-stream';
/** Upload-Offset and Upload-Length: a whole number of bytes, written as tus requires (no leading 0). */
const BYTES = /^(0|[1-9]\d*)$/;

export function tusRoutes(app: HttpServer, uploads: UploadsService, tus: TusEndpoint): void {
  /**
   * Hands the request to tus, which acts on what the route admitted (the upload it found the caller to
   * own); tus's refusals are answered as problems, like any other.
   */
  const forward = async (
    req: FastifyRequest,
    reply: FastifyReply,
    admission: Admission = {},
    checksum?: ExpectedChecksum,
  ) => {
    const response = await tus.handle(req.raw, reply.raw, admission, checksum);
    await sendNodeResponse(hijack(reply), response);
  };

  /**
   * The size rule of a request to an upload created without its length, while it has not come: the
   * bytes reserved for it are the most it may hold. A PATCH that declares the length is checked here.
   */
  const deferredLimit = (req: FastifyRequest, reserved: number): DeferredLimit => {
    const tooLarge =
      reserved < uploads.maxBytes
        ? new DomainError('QUOTA_EXCEEDED', `This upload may hold at most ${reserved} bytes`)
        : new DomainError('UPLOAD_TOO_LARGE', `Uploads may be at most ${uploads.maxBytes} bytes`);
    const length = header(req, 'upload-length');
    if (req.method === 'PATCH' && length !== undefined) {
      if (!BYTES.test(length)) throw invalid('Upload-Length', 'must be a whole number of bytes');
      uploads.assertSize(Number(length));
      if (Number(length) > reserved) throw tooLarge;
    }
    return { bytes: reserved, tooLarge, declaresLength: req.method === 'PATCH' && length !== undefined };
  };

  /** The video behind the caller's upload with this id; anyone else's upload is not found. */
  const ownUpload = async (req: FastifyRequest, id: string) => {
    checkVersion(req);
    return uploads.ownUpload(id, principalOf(req));
  };

  app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<ZodTypeProvider>();
    // tus reads the body itself: no parser may consume it, whatever its content type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    // Answers given before tus (auth, limits, ownership) carry the version as tus's own do.
    scope.addHook('onSend', async (req, reply) => {
      if (req.method !== 'OPTIONS') reply.header('Tus-Resumable', TUS_VERSION);
    });

    for (const url of [TUS_PATH, `${TUS_PATH}/:id`]) {
      scope.route({
        method: 'OPTIONS',
        url,
        config: { auth: 'public' },
        schema: { tags, summary: 'tus 1.0: versions, extensions and the largest upload allowed' },
        handler: async (req, reply) => {
          reply.header('Tus-Checksum-Algorithm', CHECKSUM_ALGORITHMS);
          await forward(req, reply);
        },
      });
    }

    scope.post(TUS_PATH, {
      // tus creation is described by headers, not a body: Idempotency-Key would not tell requests apart.
      config: { auth: 'user', idempotency: false },
      schema: {
        tags,
        summary: 'tus creation: registers the video and answers Location and Vireo-Video-Id',
        description:
          'Upload-Metadata needs `filename`; `title` is optional (default: the filename without ' +
          'extension), so are `publish` ("false" keeps the video a draft) and `publish_at` (ISO 8601).  With Content-Type application/offset+octet-stream, the body is the first bytes.',
        response: {
          201: noContent.describe('Created: Location, Vireo-Video-Id, Upload-Expires (and Upload-Offset)'),
          400: problem(
            'CHECKSUM_ALGORITHM_UNSUPPORTED, TUS_EXTENSION_UNSUPPORTED or VALIDATION_FAILED (Upload-Length, ' +
              'Upload-Defer-Length, Upload-Metadata)',
          ),
          412: problem('TUS_VERSION_UNSUPPORTED'),
          413: problem('UPLOAD_TOO_LARGE, UPLOAD_LENGTH_EXCEEDED or QUOTA_EXCEEDED'),
          429: problem('TOO_MANY_UPLOADS: finish or terminate an unfinished upload first'),
          460: problem('CHECKSUM_MISMATCH: the upload exists (Location) but holds none of the body'),
          507: problem('INSUFFICIENT_STORAGE: the server is short of disk space for uploads'),
        },
      },
      handler: async (req, reply) => {
        checkVersion(req);
        if (header(req, 'upload-concat') !== undefined) throw unsupported('concatenation');
        // undefined: creation-defer-length, the length comes with a later PATCH.
        const size = lengthOf(req);
        if (size !== undefined) uploads.assertSize(size, { 'Tus-Max-Size': String(uploads.maxBytes) });
        const meta = metadataOf(req.headers['upload-metadata']);
        const source = uploads.sourceInfo(meta.filename, meta.title, meta);
        const ownerId = principalOf(req).userId;
        await uploads.assertDiskRoom(size ?? 0);
        let creation: Creation;
        let limit: DeferredLimit | undefined;
        if (size === undefined) {
          // Until the length comes, the most one upload may be, within the quota, is held for it.
          const room = await uploads.room(ownerId);
          if (room === 0) throw new DomainError('QUOTA_EXCEEDED', 'You may upload 0 more bytes');
          creation = { ownerId, source, size: room };
          limit = deferredLimit(req, room);
        } else {
          await uploads.assertQuota(ownerId, size);
          creation = { ownerId, source, size };
        }
        // creation-with-upload: the first bytes may carry a checksum as a PATCH's do. Bytes that could
        // not be kept are refused before the upload is made.
        const withBody = req.headers['content-type'] === OFFSET_STREAM;
        if (withBody && Number(req.headers['content-length'] ?? 0) > creation.size) {
          throw limit?.tooLarge ?? new DomainError('UPLOAD_LENGTH_EXCEEDED');
        }
        const checksum = withBody ? parseChecksum(req.headers['upload-checksum']) : undefined;
        await forward(req, reply, { creation, limit }, checksum).catch((err) => {
          // The upload exists though its first bytes were refused: the client resumes it from 0.
          const id = reply.raw.getHeader('vireo-video-id');
          if (err instanceof DomainError && err.code === 'CHECKSUM_MISMATCH' && id) {
            reply.header('Location', `${TUS_PATH}/${id}`);
          }
          throw err;
        });
      },
    });

    scope.head(`${TUS_PATH}/:id`, {
      config: { auth: 'user' },
      schema: {
        tags,
        summary:
          'tus: the offset to resume from (Upload-Offset, Upload-Length or Upload-Defer-Length, Upload-Expires)',
        params: idParams,
        response: {
          404: problem('UPLOAD_NOT_FOUND'),
          410: problem('UPLOAD_GONE'),
        },
      },
      handler: async (req, reply) => {
        let video = await ownUpload(req, req.params.id);
        reply.header('Cache-Control', 'no-store');
        if (video.status === 'uploading' && (await tus.resumeCompletion(video.id))) {
          video = await ownUpload(req, video.id);
        }
        if (video.source_key) {
          // Whole: the upload's bytes are the video's source now, and tus no longer knows them.
          const size = String(video.source_size ?? 0);
          hijack(reply)
            .writeHead(200, { 'Tus-Resumable': TUS_VERSION, 'Upload-Offset': size, 'Upload-Length': size })
            .end();
          return;
        }
        if (video.status !== 'uploading') throw gone(video.failure_message);
        const expires = await (await tus.store()).expiresAt(video.id);
        if (expires) reply.header('Upload-Expires', expires.toUTCString());
        await forward(req, reply, { uploadId: video.id });
      },
    });

    scope.patch(`${TUS_PATH}/:id`, {
      config: { auth: 'user' },
      schema: {
        tags,
        summary: 'tus: append bytes at Upload-Offset',
        description:
          'With `Upload-Checksum: <algorithm> <base64 digest>` (tus checksum extension; algorithms in ' +
          'Tus-Checksum-Algorithm), a body that does not match is discarded whole and answered 460. An ' +
          'upload created with Upload-Defer-Length: 1 takes its Upload-Length with a PATCH, once.',
        params: idParams,
        response: {
          204: noContent.describe(
            'The new Upload-Offset; the video is `uploaded` once it reaches the length',
          ),
          400: problem(
            'UPLOAD_OFFSET_INVALID, CHECKSUM_ALGORITHM_UNSUPPORTED, UPLOAD_INTERRUPTED or VALIDATION_FAILED ' +
              '(Upload-Checksum, Upload-Length)',
          ),
          404: problem('UPLOAD_NOT_FOUND'),
          409: problem('UPLOAD_OFFSET_MISMATCH (HEAD tells the offset), or UPLOAD_FINISHED'),
          410: problem('UPLOAD_GONE'),
          413: problem('UPLOAD_LENGTH_EXCEEDED, or UPLOAD_TOO_LARGE or QUOTA_EXCEEDED (deferred length)'),
          415: problem('UNSUPPORTED_MEDIA_TYPE'),
          423: problem('UPLOAD_LOCKED'),
          460: problem('CHECKSUM_MISMATCH: nothing of the body was kept'),
        },
      },
      handler: async (req, reply) => {
        checkVersion(req);
        if (req.headers['content-type'] !== OFFSET_STREAM) {
          throw new DomainError('UNSUPPORTED_MEDIA_TYPE', `PATCH bodies must be ${OFFSET_STREAM}`);
        }
        const checksum = parseChecksum(req.headers['upload-checksum']);
        const offset = header(req, 'upload-offset');
        if (offset === undefined) throw offsetInvalid('is required');
        if (!BYTES.test(offset)) throw offsetInvalid('must be a whole number of bytes');
        const video = await ownUpload(req, req.params.id);
        if (video.source_key) throw finished(video.source_size);
        if (video.status !== 'uploading') throw gone(video.failure_message);
        const deferred = await (await tus.store()).lengthDeferred(video.id);
        const limit = deferred ? deferredLimit(req, video.source_size ?? 0) : undefined;
        await forward(req, reply, { uploadId: video.id, limit }, checksum);
      },
    });

    scope.delete(`${TUS_PATH}/:id`, {
      config: { auth: 'user' },
      schema: {
        tags,
        summary: 'tus termination: abandons an unfinished upload (its video fails)',
        params: idParams,
        response: {
          204: noContent.describe('Terminated'),
          404: problem('UPLOAD_NOT_FOUND'),
          409: problem('UPLOAD_FINISHED'),
          410: problem('UPLOAD_GONE'),
        },
      },
      handler: async (req, reply) => {
        const video = await ownUpload(req, req.params.id);
        if (video.source_key) throw finished(video.source_size);
        if (video.status !== 'uploading') throw gone(video.failure_message);
        // The video fails first: were the removal to fail, the expiry job still removes the file.
        await uploads.abandon(video.id, 'UPLOAD_TERMINATED', 'The uploader terminated the upload');
        await forward(req, reply, { uploadId: video.id });
      },
    });
  });
}

/** Takes the response out of Fastify's hands, keeping the headers set on the reply so far. */
function hijack(reply: FastifyReply): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) res.setHeader(name, value);
  }
  return res;
}

/** tus 1.0: an unsupported version gets 412 with the versions we speak, and nothing is done. */
function checkVersion(req: FastifyRequest): void {
  if (req.headers['tus-resumable'] !== TUS_VERSION) {
    throw new DomainError('TUS_VERSION_UNSUPPORTED', `Send Tus-Resumable: ${TUS_VERSION}`, {
      headers: { 'Tus-Version': TUS_VERSION },
    });
  }
}

/** A request header given once; repeated, its values are joined and so refused as malformed. */
function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return value === undefined ? undefined : String(value);
}

/** Upload-Length of a creation, or undefined with Upload-Defer-Length: 1 (creation-defer-length). */
function lengthOf(req: FastifyRequest): number | undefined {
  const length = header(req, 'upload-length');
  const defer = header(req, 'upload-defer-length');
  if (defer !== undefined) {
    if (defer !== '1') throw invalid('Upload-Defer-Length', 'must be 1');
    if (length !== undefined) throw invalid('Upload-Defer-Length', 'must not come with Upload-Length');
    return undefined;
  }
  if (length === undefined || !BYTES.test(length)) {
    throw invalid(
      'Upload-Length',
      'must be a whole number of bytes, or deferred with Upload-Defer-Length: 1',
    );
  }
  return Number(length);
}

function metadataOf(header: string | string[] | undefined): Record<string, string | null> {
  if (header === undefined) return {};
  try {
    return Metadata.parse(String(header));
  } catch {
    throw new DomainError('VALIDATION_FAILED', 'Upload-Metadata is not valid tus metadata', {
      fields: [{ field: 'Upload-Metadata', message: 'must be comma-separated "key base64value" pairs' }],
    });
  }
}

function finished(size: number | null): DomainError {
  return new DomainError('UPLOAD_FINISHED', 'The upload is complete', {
    headers: { 'Upload-Offset': String(size ?? 0) },
  });
}

function gone(reason: string | null): DomainError {
  return new DomainError('UPLOAD_GONE', reason ?? 'The upload no longer exists');
}
