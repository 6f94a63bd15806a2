// Unfinished uploads on disk, as @tus/file-store keeps them: `<dir>/<id>` holds the bytes received and
// `<dir>/<id>.json` what the client declared. Both survive a restart, so any instance on the same
// folder resumes an upload.
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { ERRORS, type Locker, Upload } from '@tus/server';
import type { Logger } from '../../platform/observability/logger.ts';
import { expectedChecksum, mismatch, newHash } from './checksum.ts';

/** Bytes a body may run ahead of the disk (see write()). */
const WRITE_BUFFER_BYTES = 1024 * 1024;

export interface UploadStoreOptions {
  directory: string;
  expirySeconds: number;
  /** The same locker the tus server uses: an upload is never removed under a running PATCH. */
  locker: Locker;
  logger: Logger;
  onExpired: (id: string) => Promise<void>;
  /** The length of an upload created without one arrives; refusing it (throwing) keeps it unknown. */
  onLengthDeclared: (id: string, size: number) => Promise<void>;
}

export class UploadStore extends FileStore {
  constructor(private readonly opts: UploadStoreOptions) {
    super({ directory: opts.directory, expirationPeriodInMilliseconds: opts.expirySeconds * 1000 });
    // creation-defer-length: until the length arrives, the most the upload may hold is reserved (see
    // UploadsService.register), and the length is checked against it when it comes.
    this.extensions = [
      'creation',
      'creation-with-upload',
      'creation-defer-length',
      'termination',
      'expiration',
      'checksum',
    ];
  }

  /**
   * Appends a request body at `offset`; tus calls it under the upload's lock, with the offset it read
   * under that lock. Replaces FileStore's version for two reasons. Its 16 KiB write buffer stalls the
   * socket after each 64 KiB read until the write is done; 1 MiB lets reads and writes overlap and
   * batches writes (a 256 MiB upload over loopback: about a third less time and system CPU). A body with a
   * checksum is all or nothing: if it does not match, or does not arrive whole, the file is cut back to
   * `offset` before the answer, so none of it counts.
   */
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const checksum = expectedChecksum();
    const hash = checksum && newHash(checksum);
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        hash?.update(chunk);
        done(null, chunk);
      },
    });
    const file = createWriteStream(path.join(this.directory, id), {
      flags: 'r+',
      start: offset,
      highWaterMark: WRITE_BUFFER_BYTES,
    });
    try {
      await pipeline(readable, count, file);
    } catch (err) {
      if (checksum) await this.cutBack(id, offset);
      this.opts.logger.debug({ err, uploadId: id }, 'upload body not fully written');
      throw ERRORS.FILE_WRITE_ERROR;
    }
    if (checksum && !hash!.digest().equals(checksum.digest)) {
      await this.cutBack(id, offset);
      throw mismatch(offset);
    }
    return offset + received;
  }

  /** Called under the upload's lock; the video learns the length before the record does. */
  override async declareUploadLength(id: string, size: number): Promise<void> {
    await this.opts.onLengthDeclared(id, size);
    await super.declareUploadLength(id, size);
  }

  /** Whether the upload's record is here (unfinished, or sealed and being completed). */
  async has(id: string): Promise<boolean> {
    return (await this.configstore.get(id)) !== undefined;
  }

  /** Whether the upload was created without its length and has not declared it yet. */
  async lengthDeferred(id: string): Promise<boolean> {
    const info = await this.configstore.get(id);
    return info !== undefined && info.size === undefined;
  }

  private async cutBack(id: string, offset: number): Promise<void> {
    await fs.truncate(path.join(this.directory, id), offset);
  }

  /** When the upload expires, from what the client declared; undefined for an unknown upload. */
  async expiresAt(id: string): Promise<Date | undefined> {
    const info = await this.configstore.get(id);
    if (!info?.creation_date) return undefined;
    return new Date(new Date(info.creation_date).getTime() + this.getExpiration());
  }

  /**
   * Notes in the record that all bytes arrived, before they move to the object store: the record's
   * offset is otherwise never written, and from then on it stands for the moved file.
   */
  async seal(id: string, size: number): Promise<void> {
    const info = await this.configstore.get(id);
    if (info) await this.configstore.set(id, new Upload({ ...info, offset: size }));
  }

  /** The size of a sealed upload, undefined for one still receiving bytes or unknown. */
  async sealedSize(id: string): Promise<number | undefined> {
    const info = await this.configstore.get(id);
    return info?.size !== undefined && info.offset === info.size ? info.size : undefined;
  }

  /** Sealed uploads whose record is still here: completions running now, or cut short by a crash. */
  async sealedIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const id of await this.recordIds()) {
      if ((await this.sealedSize(id)) !== undefined) ids.push(id);
    }
    return ids;
  }

  /** A completed upload has become a video: its record goes, so that expiry never considers it. */
  async forget(id: string): Promise<void> {
    await this.configstore.delete(id).catch(() => {});
  }

  /** A sealed upload whose file already moved is whole (tus asks once more before it answers). */
  override async getUpload(id: string): Promise<Upload> {
    try {
      return await super.getUpload(id);
    } catch (err) {
      const size = err === ERRORS.FILE_NO_LONGER_EXISTS ? await this.sealedSize(id) : undefined;
      if (size === undefined) throw err;
      const info = await this.configstore.get(id);
      return new Upload({ ...info, id, size, offset: size });
    }
  }

  /**
   * Removes every expired unfinished upload and reports each one. Replaces FileStore's version, which
   * gives no ids, skips records whose data file is gone, and stops at the first failure. Sealed uploads
   * are whole: they are completed, never expired.
   */
  override async deleteExpired(): Promise<number> {
    const now = Date.now();
    let removed = 0;
    for (const id of await this.recordIds()) {
      try {
        const expires = await this.expiresAt(id);
        if (!expires || expires.getTime() > now || (await this.sealedSize(id)) !== undefined) continue;
        const lock = this.opts.locker.newLock(id);
        await lock.lock(new AbortController().signal, () => {});
        try {
          await fs.rm(path.join(this.directory, id), { force: true });
          await this.configstore.delete(id);
        } finally {
          await lock.unlock();
        }
        await this.opts.onExpired(id);
        removed++;
      } catch (err) {
        this.opts.logger.error({ err, uploadId: id }, 'could not remove an expired upload');
      }
    }
    return removed;
  }

  private async recordIds(): Promise<string[]> {
    const names = await fs.readdir(this.directory).catch(() => []);
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  }
}
