// The rules of uploading: size and quota limits, registration of the video, and completion, which
// hands the source to the object store and schedules processing in one transaction.
import fs from 'node:fs/promises';
import path from 'node:path';
import { uuidv7 } from 'uuidv7';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { AppError, type FieldError } from '../../platform/http/errors.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { processVideoJobType } from '../transcoding/job-types.ts';
import type { VideoRow } from '../videos/index.ts';
import type { UploadsDeps } from './deps.ts';
import * as repo from './repo.ts';

export const sourceKey = (videoId: string) => `sources/${videoId}/original`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_FILENAME = 255;
const MAX_TITLE = 200;

export interface SourceInfo {
  filename: string;
  title: string;
}

export class UploadsService {
  constructor(private readonly deps: UploadsDeps) {}

  get maxBytes(): number {
    return this.deps.config.maxBytes;
  }

  /** Filename and title as given by the uploader; the title defaults to the filename without extension. */
  sourceInfo(filename: string | null | undefined, title: string | null | undefined): SourceInfo {
    const fields: FieldError[] = [];
    const name = filename?.trim() ?? '';
    if (!name) fields.push({ field: 'filename', message: 'is required' });
    else if (name.length > MAX_FILENAME) fields.push({ field: 'filename', message: 'is too long' });
    const given = title?.trim();
    if (title != null && !given) fields.push({ field: 'title', message: 'must not be empty' });
    else if (given && given.length > MAX_TITLE) fields.push({ field: 'title', message: 'is too long' });
    if (fields.length) {
      throw new AppError('VALIDATION_FAILED', `Invalid ${fields.map((f) => f.field).join(', ')}`, { fields });
    }
    const stem = path.parse(name).name || name;
    return { filename: name, title: given || stem.slice(0, MAX_TITLE) };
  }

  assertSize(size: number, headers?: Record<string, string>): void {
    if (size > this.deps.config.maxBytes) {
      throw new AppError('UPLOAD_TOO_LARGE', `Uploads may be at most ${this.deps.config.maxBytes} bytes`, {
        headers,
      });
    }
  }

  /** Answers early in the common case; register() checks again under a lock. */
  async assertQuota(ownerId: string, size: number): Promise<void> {
    this.checkQuota(await repo.usedBytes(this.deps.db, ownerId), size);
  }

  /** Bytes the user may still upload, never more than one upload may be. */
  async room(ownerId: string): Promise<number> {
    const left = this.deps.config.quotaBytes - (await repo.usedBytes(this.deps.db, ownerId));
    return Math.max(0, Math.min(left, this.deps.config.maxBytes));
  }

  /** Creates the video in `uploading` state; its declared size counts against the quota at once. */
  async register(ownerId: string, input: SourceInfo & { id: string; size: number }): Promise<VideoRow> {
    this.assertSize(input.size);
    return this.deps.db.transaction().execute(async (tx) => {
      await repo.lockQuota(tx, ownerId);
      this.checkQuota(await repo.usedBytes(tx, ownerId), input.size);
      return this.deps.videos.register(tx, {
        id: input.id,
        ownerId,
        title: input.title,
        filename: input.filename,
        size: input.size,
      });
    });
  }

  /**
   * Moves the finished file into the store and marks the video uploaded, with its processing job in the
   * same transaction. Safe to repeat: a source already moved is not needed again, and a video no longer
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
      if ((await repo.lockStatus(tx, id)) !== 'uploading') return;
      await this.deps.videos.markUploaded(tx, id, { key, size });
      await enqueue(tx, processVideoJobType, { videoId: id }, { jobKey: `process:${id}` });
    });
    this.deps.logger.info({ videoId: id, size }, 'upload complete');
  }

  /** The one-request upload: the file is whole already, so completion follows registration at once. */
  async accept(ownerId: string, source: SourceInfo, file: string, size: number): Promise<VideoRow> {
    const video = await this.register(ownerId, { ...source, id: uuidv7(), size });
    try {
      await this.complete(video.id, file, size);
    } catch (err) {
      await this.deps.videos.markFailed(video.id, 'UPLOAD_FAILED', 'The upload could not be stored');
      throw err;
    }
    return (await this.deps.videos.get(video.id)) ?? video;
  }

  /** A video whose upload will never finish (expired, terminated) fails with that reason. */
  async abandon(id: string, code: 'UPLOAD_EXPIRED' | 'UPLOAD_TERMINATED', message: string): Promise<void> {
    // Checked first: only an unfinished upload may fail this way, never a video already processing.
    const video = await this.deps.videos.get(id);
    if (video?.status === 'uploading') await this.deps.videos.markFailed(id, code, message);
  }

  /** The video behind an upload id, for its uploader only; anyone else learns nothing about it. */
  async ownUpload(id: string, principal: Principal): Promise<VideoRow> {
    const video = UUID.test(id) ? await this.deps.videos.get(id) : undefined;
    if (!video || video.owner_id !== principal.userId) {
      throw new AppError('UPLOAD_NOT_FOUND', 'No such upload');
    }
    return video;
  }

  private checkQuota(used: number, size: number): void {
    if (used + size > this.deps.config.quotaBytes) {
      const left = Math.max(0, this.deps.config.quotaBytes - used);
      throw new AppError('QUOTA_EXCEEDED', `You may upload ${left} more bytes`);
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}
