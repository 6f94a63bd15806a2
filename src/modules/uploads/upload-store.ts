// Unfinished uploads on disk, as @tus/file-store keeps them: `<dir>/<id>` holds the bytes received and
// `<dir>/<id>.json` what the client declared. Both survive a restart, so any instance on the same
// folder resumes an upload.
import fs from 'node:fs/promises';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import { ERRORS, type Locker, Upload } from '@tus/server';
import type { Logger } from '../../platform/observability/logger.ts';

export interface UploadStoreOptions {
  directory: string;
  expirySeconds: number;
  /** The same locker the tus server uses: an upload is never removed under a running PATCH. */
  locker: Locker;
  logger: Logger;
  onExpired: (id: string) => Promise<void>;
}

export class UploadStore extends FileStore {
  constructor(private readonly opts: UploadStoreOptions) {
    super({ directory: opts.directory, expirationPeriodInMilliseconds: opts.expirySeconds * 1000 });
    // No creation-defer-length: size limits and the quota are checked against Upload-Length at creation.
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
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
