// The rules of uploading: size and quota limits, registration of the video, and completion, which
// hands the source to the object store and announces `video.uploaded` in one transaction.
import fs from 'node:fs/promises';
import path from 'node:path';
import { uuidv7 } from 'uuidv7';
import type { DbOrTx } from '../../platform/db/database.ts';
import { DomainError, type FieldError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { sourceKey, type VideoRow } from '../videos/index.ts';
import type { UploadsDeps } from './deps.ts';
import { videoUploaded } from './events.ts';
import * as repo from './repo.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_FILENAME = 255;
const MAX_TITLE = 200;
// NUL is refused by PostgreSQL; the other control characters have no place in a name or a title either.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const NO_CONTROL = 'must not hold control characters';

export interface SourceInfo {
  filename: string;
  title: string;
  /** When the video publishes (once playable): undefined, as soon as it can; null, kept a draft. */
  publishAt?: Date | null;
}

/** What an uploader may say of the video's publication: `publish` ("true"/"false") and `publish_at`. */
export interface PublishOptions {
  publish?: string | null;
  publish_at?: string | null;
}

/** Room a one-request upload holds in its uploader's quota while its file streams in. */
export interface Reservation {
  id: string;
  bytes: number;
  /** What a file larger than `bytes` is answered. */
  tooLarge: DomainError;
}

export class UploadsService {
  constructor(private readonly deps: UploadsDeps) {}

  get maxBytes(): number {
    return this.deps.config.maxBytes;
  }

  /** Filename and title as given by the uploader; the title defaults to the filename without extension. */
  sourceInfo(
    filename: string | null | undefined,
    title: string | null | undefined,
    options: PublishOptions = {},
  ): SourceInfo {
    const fields: FieldError[] = [];
    const publishAt = publishAtOf(options, fields);
    const name = filename?.trim() ?? '';
    if (!name) fields.push({ field: 'filename', message: 'is required' });
    else if (name.length > MAX_FILENAME) fields.push({ field: 'filename', message: 'is too long' });
    else if (CONTROL.test(name)) fields.push({ field: 'filename', message: NO_CONTROL });
    const given = title?.trim();
    if (title != null && !given) fields.push({ field: 'title', message: 'must not be empty' });
    else if (given && given.length > MAX_TITLE) fields.push({ field: 'title', message: 'is too long' });
    else if (given && CONTROL.test(given)) fields.push({ field: 'title', message: NO_CONTROL });
    if (fields.length) {
      throw new DomainError('VALIDATION_FAILED', `Invalid ${fields.map((f) => f.field).join(', ')}`, {
        fields,
      });
    }
    const stem = path.parse(name).name || name;
    return { filename: name, title: given || stem.slice(0, MAX_TITLE), publishAt };
  }

  assertSize(size: number, headers?: Record<string, string>): void {
    if (size > this.deps.config.maxBytes) {
      throw new DomainError('UPLOAD_TOO_LARGE', `Uploads may be at most ${this.deps.config.maxBytes} bytes`, {
        headers,
      });
    }
  }

  /** Answers early in the common case; register() checks again under a lock. */
  async assertQuota(ownerId: string, size: number): Promise<void> {
    this.checkQuota(await this.usedBytes(this.deps.db, ownerId), size);
  }

  /**
   * Refuses a new upload of `size` bytes (0 when unknown) when the upload folder's file system would be
   * left with less free space than UPLOAD_MIN_FREE_BYTES or UPLOAD_MIN_FREE_PERCENT, whichever is more.
   */
  async assertDiskRoom(size: number): Promise<void> {
    const { dir, minFreeBytes, minFreePercent } = this.deps.config;
    await fs.mkdir(dir, { recursive: true });
    const disk = await fs.statfs(dir);
    const free = disk.bavail * disk.bsize;
    const floor = Math.max(minFreeBytes, (disk.blocks * disk.bsize * minFreePercent) / 100);
    if (free - size < floor) {
      this.deps.logger.warn({ dir, free, floor, size }, 'upload refused: the upload disk is short of space');
      throw new DomainError('INSUFFICIENT_STORAGE');
    }
  }

  /**
   * Holds room in the quota for a one-request upload before its file streams in: the form's declared
   * length, or the most one upload may be when it declares none. `overhead` is what the form may hold
   * beside the file. Checked and written under the user's quota lock, so two uploads cannot both take
   * the same room; release() gives it back, register() turns it into the video's size.
   */
  async reserve(ownerId: string, declared: number | undefined, overhead: number): Promise<Reservation> {
    const { maxBytes, expirySeconds } = this.deps.config;
    return this.deps.db.transaction().execute(async (tx) => {
      await repo.lockQuota(tx, ownerId);
      await this.checkUnfinished(tx, ownerId);
      const room = this.roomBeside(await this.usedBytes(tx, ownerId));
      const tooLarge =
        room < maxBytes
          ? new DomainError('QUOTA_EXCEEDED', `You may upload ${room} more bytes`)
          : new DomainError('UPLOAD_TOO_LARGE', `Uploads may be at most ${maxBytes} bytes`);
      // A form declared far larger than the room is refused before a byte of it is stored.
      if (declared !== undefined && declared > room + overhead) throw tooLarge;
      const bytes = Math.min(declared ?? room, room);
      const id = uuidv7();
      await repo.insertReservation(tx, { id, ownerId, bytes, ttlSeconds: expirySeconds });
      return { id, bytes, tooLarge };
    });
  }

  /** Gives back the room of a reservation (nothing if register() took it already). */
  async release(reservationId: string): Promise<void> {
    await repo.deleteReservation(this.deps.db, reservationId);
  }

  /** Bytes the user may still upload, never more than one upload may be. */
  async room(ownerId: string): Promise<number> {
    return this.roomBeside(await this.usedBytes(this.deps.db, ownerId));
  }

  /**
   * Creates the video in `uploading` state; its size counts against the quota at once: the declared
   * one, or for an upload whose length comes later (tus creation-defer-length) the room held for it
   * until declareLength(). A reservation given is turned into the video's size in the same transaction.
   */
  async register(
    ownerId: string,
    input: SourceInfo & { id: string; size: number; reservationId?: string },
  ): Promise<VideoRow> {
    this.assertSize(input.size);
    return this.deps.db.transaction().execute(async (tx) => {
      await repo.lockQuota(tx, ownerId);
      if (input.reservationId) await repo.deleteReservation(tx, input.reservationId);
      await this.checkUnfinished(tx, ownerId);
      this.checkQuota(await this.usedBytes(tx, ownerId), input.size);
      return this.deps.videos.register(tx, {
        id: input.id,
        ownerId,
        title: input.title,
        filename: input.filename,
        size: input.size,
        publishAt: input.publishAt,
      });
    });
  }

  /**
   * The length of an upload created without one: it must fit the room reserved at creation, which then
   * shrinks to it. tus calls it under the upload's lock, once.
   */
  async declareLength(id: string, size: number): Promise<void> {
    this.assertSize(size);
    await this.deps.db.transaction().execute(async (tx) => {
      const video = await this.deps.videos.lock(tx, id);
      if (video?.status !== 'uploading') throw new DomainError('UPLOAD_GONE');
      const reserved = video.source_size ?? 0;
      if (size > reserved) {
        throw new DomainError('QUOTA_EXCEEDED', `This upload may hold at most ${reserved} bytes`);
      }
      await this.deps.videos.declareSourceSize(tx, id, size);
    });
  }

  /**
   * Moves the finished file into the store and marks the video uploaded, announcing `video.uploaded` in
   * the same transaction (processing follows from it). Safe to repeat: a source already moved is not needed again, and a video no longer
   * `uploading` is left as it is, so processing is never scheduled twice.
   */
  async complete(id: string, file: string, size: number): Promise<void> {
    const video = await this.deps.videos.get(id);
    if (video?.status !== 'uploading') return;
    const key = sourceKey(id);
    const moved = async () => (await this.deps.store.stat(key))?.size === size;
    if (await exists(file)) {
      await this.deps.store.putFile(key, file, { move: true }).catch(async (err) => {
        // A completion of the same upload running beside this one moved the file first.
        if ((await exists(file)) || !(await moved())) throw err;
      });
    } else if (!(await moved())) {
      throw new Error(`upload ${id} finished but its file is missing`);
    }
    await this.deps.db.transaction().execute(async (tx) => {
      if ((await this.deps.videos.lock(tx, id))?.status !== 'uploading') return;
      await this.deps.videos.markUploaded(tx, id, { key, size });
      await emit(tx, videoUploaded.create({ aggregateId: id, payload: { video_id: id, size } }));
    });
    this.deps.logger.info({ videoId: id, size }, 'upload complete');
  }

  /**
   * The one-request upload: the file is whole already, so completion follows registration at once. The
   * reservation made before it streamed becomes the video's size.
   */
  async accept(
    ownerId: string,
    source: SourceInfo,
    upload: { file: string; size: number; reservationId: string },
  ): Promise<VideoRow> {
    const { file, size, reservationId } = upload;
    const video = await this.register(ownerId, { ...source, id: uuidv7(), size, reservationId });
    try {
      await this.complete(video.id, file, size);
    } catch (err) {
      await this.deps.videos.runs.markFailed(video.id, 'UPLOAD_FAILED', 'The upload could not be stored');
      throw err;
    }
    return (await this.deps.videos.get(video.id)) ?? video;
  }

  /** A video whose upload will never finish (expired, terminated) fails with that reason. */
  async abandon(id: string, code: 'UPLOAD_EXPIRED' | 'UPLOAD_TERMINATED', message: string): Promise<void> {
    // Checked first: only an unfinished upload may fail this way, never a video already processing.
    const video = await this.deps.videos.get(id);
    if (video?.status === 'uploading') await this.deps.videos.runs.markFailed(id, code, message);
  }

  /** The video behind an upload id, for its uploader only; anyone else learns nothing about it. */
  async ownUpload(id: string, principal: Principal): Promise<VideoRow> {
    const video = UUID.test(id) ? await this.deps.videos.get(id) : undefined;
    if (!video || video.owner_id !== principal.userId) {
      throw new DomainError('UPLOAD_NOT_FOUND', 'No such upload');
    }
    return video;
  }

  /** Videos still uploading though they started longer ago than an upload may take. */
  async overdueUploads(): Promise<string[]> {
    return this.deps.videos.uploadingSince(this.deps.config.expirySeconds);
  }

  /** Removes reservations whose request died with its node. */
  async removeExpiredReservations(): Promise<void> {
    await repo.deleteExpiredReservations(this.deps.db);
  }

  /** UPLOAD_MAX_UNFINISHED: a user may not open uploads without end. Call under the quota lock. */
  private async checkUnfinished(tx: DbOrTx, ownerId: string): Promise<void> {
    const max = this.deps.config.maxUnfinished;
    const unfinished =
      (await this.deps.videos.uploadingCountOf(tx, ownerId)) + (await repo.reservationCount(tx, ownerId));
    if (unfinished >= max) {
      throw new DomainError('TOO_MANY_UPLOADS', `At most ${max} uploads may be unfinished at a time`);
    }
  }

  /** Bytes a user's uploads take: sources, declared sizes, and room held by uploads still streaming. */
  private async usedBytes(db: DbOrTx, ownerId: string): Promise<number> {
    return (await this.deps.videos.sourceBytesOf(db, ownerId)) + (await repo.reservedBytes(db, ownerId));
  }

  private roomBeside(used: number): number {
    return Math.max(0, Math.min(this.deps.config.quotaBytes - used, this.deps.config.maxBytes));
  }

  private checkQuota(used: number, size: number): void {
    if (used + size > this.deps.config.quotaBytes) {
      const left = Math.max(0, this.deps.config.quotaBytes - used);
      throw new DomainError('QUOTA_EXCEEDED', `You may upload ${left} more bytes`);
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * When an upload publishes: by default as soon as it can be watched; `publish=false` keeps it a draft;
 * `publish_at` (ISO 8601) schedules it.
 */
function publishAtOf(options: PublishOptions, fields: FieldError[]): Date | null | undefined {
  const publish = options.publish?.trim().toLowerCase();
  if (publish != null && publish !== 'true' && publish !== 'false') {
    fields.push({ field: 'publish', message: 'must be true or false' });
    return undefined;
  }
  if (options.publish_at != null) {
    const at = ISO_DATETIME.test(options.publish_at.trim()) ? new Date(options.publish_at.trim()) : null;
    if (!at || Number.isNaN(at.getTime())) {
      fields.push({
        field: 'publish_at',
        message: 'must be an ISO 8601 date and time, e.g. 2030-01-31T18:00:00Z',
      });
      return undefined;
    }
    if (publish === 'false') {
      fields.push({ field: 'publish_at', message: 'cannot be given with publish=false' });
      return undefined;
    }
    return at;
  }
  return publish === 'false' ? null : undefined;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
