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
import { principalOf } from '../../platform/http/auth-guard.ts';
import { AppError, problemSchema } from '../../platform/http/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { uploadedVideo } from './schema.ts';
import type { UploadsService } from './service.ts';

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
        summary: 'Upload a video in one request (multipart/form-data: `file`, optional `title`)',
        consumes: ['multipart/form-data'],
        response: {
          201: uploadedVideo,
          413: problemSchema.describe('UPLOAD_TOO_LARGE or QUOTA_EXCEEDED'),
          415: problemSchema.describe('UNSUPPORTED_MEDIA_TYPE'),
        },
      },
      handler: async (req, reply) => {
        const ownerId = principalOf(req).userId;
        if (!req.isMultipart()) {
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with a `file` field');
        }
        const form = await receiveForm(req, uploads, ownerId, path.join(dir, 'forms'));
        try {
          const source = uploads.sourceInfo(form.filename, form.title);
          const video = await uploads.accept(ownerId, source, form.file, form.size);
          reply.header('location', `/api/v1/videos/${video.id}`);
          return reply.status(201).send({ id: video.id, status: video.status });
        } finally {
          await fs.rm(form.file, { force: true });
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
}

/** Streams the `file` part to disk within the user's room, and collects the title before or after it. */
async function receiveForm(
  req: FastifyRequest,
  uploads: UploadsService,
  ownerId: string,
  dir: string,
): Promise<ReceivedForm> {
  const room = await uploads.room(ownerId);
  const tooLarge = () =>
    // The room is the smaller of the size limit and what is left of the quota.
    room < uploads.maxBytes
      ? new AppError('QUOTA_EXCEEDED', `You may upload ${room} more bytes`)
      : new AppError('UPLOAD_TOO_LARGE', `Uploads may be at most ${uploads.maxBytes} bytes`);
  // A form declared far larger than the room is refused before a byte of it is stored.
  if (Number(req.headers['content-length']) > room + FORM_OVERHEAD) throw tooLarge();
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${uuidv7()}.part`);
  const form: ReceivedForm = { file, size: -1 };
  try {
    const parts = req.parts({
      limits: { fileSize: room, files: 1, fields: 4, fieldSize: MAX_TITLE_BYTES, parts: 5 },
    });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.fieldname === 'title') form.title = String(part.value);
        continue;
      }
      if (part.fieldname !== 'file') {
        part.file.resume();
        continue;
      }
      await pipeline(part.file, createWriteStream(file));
      if (part.file.truncated) throw tooLarge();
      form.filename = part.filename;
      form.size = (await fs.stat(file)).size;
    }
    if (form.size < 0) {
      throw new AppError('VALIDATION_FAILED', 'The form has no file', {
        fields: [{ field: 'file', message: 'is required' }],
      });
    }
    return form;
  } catch (err) {
    await fs.rm(file, { force: true });
    throw err;
  }
}
