// The tus 1.0 server (@tus/server on @tus/file-store) and the hooks that tie an upload to its video:
// the upload id is the video id, creation registers the video, the last byte completes it.
import fs from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { EVENTS, Server } from '@tus/server';
import { NodeRequest } from 'srvx/node';
import { uuidv7 } from 'uuidv7';
import { ERROR_CODES } from '../../platform/errors/codes.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { type ExpectedChecksum, withChecksum } from './checksum.ts';
import type { UploadsDeps } from './deps.ts';
import { PgLocker } from './pg-locker.ts';
import type { SourceInfo, UploadsService } from './service.ts';
import { type DeferredLimit, problemOfTusAnswer, problemOfTusError } from './tus-errors.ts';
import { UploadStore } from './upload-store.ts';

export const TUS_PATH = '/api/v1/uploads';
export const TUS_VERSION = '1.0.0';

/** Who creates an upload and what it is, checked by the route before tus sees the request. */
export interface Creation {
  ownerId: string;
  source: SourceInfo;
  /** Upload-Length, or without it (creation-defer-length) the bytes held until the length comes. */
  size: number;
}

/**
 * What the route decided about one request before tus sees it. tus acts on `uploadId` and on no id it
 * could read from the URL: the URL's last segment may be anything (`/uploads/<mine>?/<yours>`).
 */
export interface Admission {
  /** The upload the caller was found to own (HEAD, PATCH, DELETE). */
  uploadId?: string;
  /** A creation let through (POST). */
  creation?: Creation;
  /** A request to an upload whose length is not known yet. */
  limit?: DeferredLimit;
}

/** What tus hands its hooks: a web Request that still carries the Node request and response. */
type CarriesNode = { runtime?: { node?: { req: IncomingMessage; res?: ServerResponse } } };
const nodeOf = (req: unknown) => (req as CarriesNode).runtime?.node;

export class TusEndpoint {
  private readonly admissions = new WeakMap<IncomingMessage, Admission>();
  /** Errors raised inside tus, answered as problems once tus is done with the request. */
  private readonly failures = new WeakMap<IncomingMessage, Error>();
  private built?: Promise<{ server: Server; store: UploadStore; locker: PgLocker }>;

  constructor(
    private readonly deps: UploadsDeps,
    private readonly uploads: UploadsService,
  ) {}

  async server(): Promise<Server> {
    return (await this.build()).server;
  }

  /**
   * Lets tus handle one request, as the route admitted it, and answers its response, unsent. Any error
   * answer is thrown instead (an DomainError, or another error for an internal failure), for the caller to
   * answer as a problem rather than tus's plain text.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    admission: Admission = {},
    checksum?: ExpectedChecksum,
  ): Promise<Response> {
    const server = await this.server();
    this.admissions.set(req, admission);
    const response = await withChecksum(checksum, () => server.handleWeb(new NodeRequest({ req, res })));
    if (response.status < 400) return response;
    const failure = this.failures.get(req);
    if (failure) {
      await response.body?.cancel();
      throw failure;
    }
    // Written by tus itself before any handler ran: its header checks.
    throw problemOfTusAnswer(response.status, await response.text());
  }

  /** Releases the upload locks' connection; the app calls it once no request or job is running. */
  async stop(): Promise<void> {
    const built = await this.built?.catch(() => undefined);
    await built?.locker.close();
  }

  async store(): Promise<UploadStore> {
    return (await this.build()).store;
  }

  /** Built on first use: FileStore creates its folder at construction and throws out of band if it cannot. */
  private build() {
    this.built ??= (async () => {
      await fs.mkdir(this.deps.config.dir, { recursive: true });
      return this.create();
    })();
    this.built.catch(() => {
      this.built = undefined;
    });
    return this.built;
  }

  private create() {
    const { config, logger } = this.deps;
    // Shared by every node on the database: a client may send each request of an upload to another one.
    const locker = new PgLocker({
      url: this.deps.databaseUrl,
      logger,
      acquireTimeoutMs: config.lockTimeoutMs,
    });
    const store = new UploadStore({
      directory: config.dir,
      expirySeconds: config.expirySeconds,
      locker,
      logger,
      onExpired: (id) => this.uploads.abandon(id, 'UPLOAD_EXPIRED', 'The upload was not finished in time'),
      onLengthDeclared: (id, size) => this.uploads.declareLength(id, size),
    });
    const admissionOf = (req: unknown) => {
      const node = nodeOf(req);
      return node && this.admissions.get(node.req);
    };
    const server = new Server({
      path: TUS_PATH,
      datastore: store,
      locker,
      // The id the route authorised, never one parsed again from the URL; none (404) if it gave none.
      getFileIdFromRequest: (req) => admissionOf(req)?.uploadId,
      maxSize: (req) => admissionOf(req)?.limit?.bytes ?? config.maxBytes,
      // A relative Location stays right behind any proxy; tus 1.0 allows it.
      relativeLocation: true,
      // The API answers no cross-origin requests anywhere else either.
      allowedOrigins: () => false,
      exposedHeaders: ['Vireo-Video-Id'],
      namingFunction: () => uuidv7(),
      onUploadCreate: async (req, upload) => {
        const creation = admissionOf(req)?.creation;
        if (!creation) throw new DomainError('UPLOAD_NOT_FOUND');
        await this.uploads.register(creation.ownerId, {
          ...creation.source,
          id: upload.id,
          size: creation.size,
        });
        nodeOf(req)?.res?.setHeader('Vireo-Video-Id', upload.id);
        return {};
      },
      onUploadFinish: async (_req, upload) => {
        await this.finish(store, upload.id, upload.size ?? upload.offset);
        return {};
      },
      onResponseError: (req, raised) => {
        const problem = problemOfTusError(raised, admissionOf(req)?.limit);
        // Anything else is a failure of ours: handle() throws it, and it is logged and answered 500.
        const failure = problem ?? (raised instanceof Error ? raised : tusFailure(raised));
        const node = nodeOf(req);
        if (node) this.failures.set(node.req, failure);
        // The answer tus writes is replaced by our problem+json; its status still matters to tus.
        return {
          status_code: problem ? ERROR_CODES[problem.code].status : 500,
          body: `${failure.message}\n`,
        };
      },
    });
    // tus still reads the record while it answers; it goes once the answer is made.
    server.on(EVENTS.POST_FINISH, (_req, _res, upload) => void store.forget(upload.id));
    return { server, store, locker };
  }

  private async finish(store: UploadStore, id: string, size: number): Promise<void> {
    await store.seal(id, size);
    await this.uploads.complete(id, path.join(this.deps.config.dir, id), size);
  }

  /**
   * Finishes a completion cut short (a crash between moving the file and the commit), as a client that
   * asks for the offset of a sealed upload expects it to be done. Answers whether there was one.
   */
  async resumeCompletion(id: string): Promise<boolean> {
    const store = await this.store();
    const size = await store.sealedSize(id);
    if (size === undefined) return false;
    await this.finish(store, id, size);
    await store.forget(id);
    return true;
  }

  /**
   * Fails videos left `uploading` past the expiry with no upload behind them (its files lost, a node
   * that died between registering a one-request upload and storing it), so that they stop counting
   * against their owner's quota and unfinished uploads. Run after the expired uploads are removed.
   */
  async abandonOrphans(): Promise<void> {
    const store = await this.store();
    for (const id of await this.uploads.overdueUploads()) {
      if (await store.has(id)) continue;
      await this.uploads.abandon(id, 'UPLOAD_EXPIRED', 'The upload was not finished in time');
    }
  }

  /** Finishes every completion cut short; one that fails again waits for the next run. */
  async resumeCompletions(): Promise<void> {
    for (const id of await (await this.store()).sealedIds()) {
      await this.resumeCompletion(id).catch((err) =>
        this.deps.logger.error({ err, videoId: id }, 'could not finish an upload'),
      );
    }
  }
}

/** One of tus's internal failures (a plain object with status and text) as an Error, for the log. */
function tusFailure(raised: { body?: string }): Error {
  return new Error(`upload request failed: ${String(raised.body ?? 'unknown error').trim()}`);
}
