// The one-request upload: a multipart form with the file, streamed to a temporary file (never held in
// memory), then registered and completed the same way as a tus upload.
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { uuidv7 } from 'uuidv7';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { uploadedVideo } from './schema.ts';
import type { Reservation, UploadsService } from './service.ts';

const MAX_TITLE_BYTES = 4096;
/** Room in a form for the title, part headers and boundaries beside the file itself. */
const FORM_OVERHEAD = 64 * 1024;

export function plainUploadRoutes(app: HttpServer, uploads: UploadsService, dir: string): void {
  app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<ZodTypeProvider>();
    // Over the limit, the file part ends early and is marked truncated: we answer that ourselves.
    await scope.register(multipart, { throwFileSizeLimit: false });
    scope.post('/api/v1/videos/upload', {
      config: { auth: 'user' },
      schema: {
        tags: ['uploads'],
        summary:
          'Upload a video in one request (multipart/form-data: `file`; optional `title`, `publish` ' +
          '("false" keeps it a draft) and `publish_at` (ISO 8601: publishes then); by default it ' +
          'publishes as soon as it can be watched)',
        consumes: ['multipart/form-data'],
        response: {
          201: uploadedVideo,
          400: problemSchema.describe('MALFORMED_REQUEST (a form that cannot be read) or VALIDATION_FAILED'),
          413: problemSchema.describe('UPLOAD_TOO_LARGE or QUOTA_EXCEEDED'),
          415: problemSchema.describe('UNSUPPORTED_MEDIA_TYPE'),
          429: problemSchema.describe('TOO_MANY_UPLOADS: too many uploads unfinished'),
          507: problemSchema.describe('INSUFFICIENT_STORAGE: the server is short of disk space for uploads'),
        },
      },
      handler: async (req, reply) => {
        const ownerId = principalOf(req).userId;
        if (!req.isMultipart()) {
          throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with a `file` field');
        }
        const length = Number(req.headers['content-length']);
        const declared = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
        await uploads.assertDiskRoom(declared ?? 0);
        // Room in the quota is held before a byte is stored, so that two uploads cannot both take it.
        const reservation = await uploads.reserve(ownerId, declared, FORM_OVERHEAD);
        try {
          const form = await receiveForm(req, reservation, path.join(dir, 'forms'));
          try {
            const source = uploads.sourceInfo(form.filename, form.title, form);
            const video = await uploads.accept(ownerId, source, { ...form, reservationId: reservation.id });
            reply.header('location', `/api/v1/videos/${video.id}`);
            return reply.status(201).send({ id: video.id, status: video.status });
          } finally {
            await fs.rm(form.file, { force: true });
          }
        } finally {
          await uploads.release(reservation.id);
        }
      },
    });
  });
}

interface ReceivedForm {
  file: string;
  size: number;
  filename?: string;
  title?: string;
  publish?: string;
  publish_at?: string;
}

/** Streams the `file` part to disk within the room reserved, and collects the title before or after it. */
async function receiveForm(req: FastifyRequest, room: Reservation, dir: string): Promise<ReceivedForm> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${uuidv7()}.part`);
  const form: ReceivedForm = { file, size: -1 };
  try {
    const parts = req.parts({
      limits: { fileSize: room.bytes, files: 1, fields: 4, fieldSize: MAX_TITLE_BYTES, parts: 5 },
    });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.fieldname === 'title') form.title = String(part.value);
        if (part.fieldname === 'publish') form.publish = String(part.value);
        if (part.fieldname === 'publish_at') form.publish_at = String(part.value);
        continue;
      }
      if (part.fieldname !== 'file') {
        part.file.resume();
        continue;
      }
      await pipeline(part.file, createWriteStream(file));
      if (part.file.truncated) throw room.tooLarge;
      form.filename = part.filename;
      form.size = (await fs.stat(file)).size;
    }
    if (form.size < 0) {
      throw new DomainError('VALIDATION_FAILED', 'The form has no file', {
        fields: [{ field: 'file', message: 'is required' }],
      });
    }
    return form;
  } catch (err) {
    await fs.rm(file, { force: true });
    throw formError(err);
  }
}

/**
 * A form the parser could not read (no boundary, a malformed part header, a body that ends before the
 * form does) is the client's fault: 400. Our own errors, the plugin's (with their status) and those of
 * the disk stay as they are.
 */
function formError(err: unknown): unknown {
  if (err instanceof DomainError || !(err instanceof Error)) return err;
  if ('statusCode' in err || 'syscall' in err) return err;
  return new DomainError('MALFORMED_REQUEST', `The form could not be read: ${err.message}`);
}
