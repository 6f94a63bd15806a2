// ObjectStore on a local folder: keys are relative paths below the root.
import { randomBytes } from 'node:crypto';
import { type BigIntStats, constants, type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { contentTypeOf } from './content-types.ts';
import { ObjectKeyError, ObjectNotFoundError } from './errors.ts';
import { checkKey, checkPrefix } from './keys.ts';
import type { ByteRange, ObjectStore, StoredObject } from './object-store.ts';

/** Names of files being written; never listed, and refused as key segments so they cannot collide. */
const PARTIAL = '.partial-';

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code;
/** ENOTDIR: a key below a name that is an object, not a folder (`a/b` when `a` is a file). */
const isMissing = (err: unknown) => codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR';

export class FsObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /**
   * The content type is taken from the key's extension (see content-types.ts), not from
   * `contentType`: a folder keeps no metadata beside the bytes.
   */
  async put(key: string, body: Buffer | string, _contentType?: string): Promise<void> {
    await this.replace(this.fileOf(key), (temp) => fs.writeFile(temp, body, { flag: 'wx' }));
  }

  async putFile(
    key: string,
    file: string,
    opts: { contentType?: string; move?: boolean } = {},
  ): Promise<void> {
    const target = this.fileOf(key);
    if (opts.move) {
      // A renamed file keeps its mtime; touching it first keeps Last-Modified moving forward.
      const now = new Date();
      await fs.utimes(file, now, now);
      try {
        await this.inFolder(target, () => fs.rename(file, target));
        return;
      } catch (err) {
        if (codeOf(err) !== 'EXDEV') throw err;
      }
    }
    await this.replace(target, (temp) =>
      fs.copyFile(file, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE),
    );
    if (opts.move) await fs.rm(file, { force: true });
  }

  async stat(key: string): Promise<StoredObject | null> {
    const file = this.fileOf(key);
    let stats: BigIntStats;
    try {
      stats = await fs.stat(file, { bigint: true });
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    return stats.isFile() ? describe(key, stats) : null;
  }

  /** A range is clamped to the last byte; a start past it throws RangeError. */
  async get(key: string, range?: ByteRange): Promise<{ object: StoredObject; body: Readable } | null> {
    const file = this.fileOf(key);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      // Size and etag come from the open file, so they describe exactly the bytes streamed even
      // when a writer replaces the object meanwhile.
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) {
        await handle.close();
        return null;
      }
      const object = describe(key, stats);
      const bounds = range ? clamp(range, object.size) : {};
      return { object, body: handle.createReadStream({ ...bounds, autoClose: true }) };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * Hard-links when the file is on the same disk. The store never writes into an existing file
   * (put renames a new one over it), so the link keeps the bytes it had; the caller must not write to it.
   */
  async download(key: string, file: string): Promise<void> {
    const source = this.fileOf(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.rm(file, { force: true });
    try {
      await fs.link(source, file);
      return;
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      // EXDEV, EPERM (a filesystem without links): copy instead.
    }
    try {
      await fs.copyFile(source, file);
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    const { files } = await this.walk(prefix);
    return files;
  }

  async delete(key: string): Promise<void> {
    const file = this.fileOf(key);
    if (await unlink(file)) await this.prune([path.dirname(file)]);
  }

  async deletePrefix(prefix: string): Promise<number> {
    // One wrong variable must not empty the whole store.
    if (prefix === '') throw new ObjectKeyError(prefix, 'deleting every object is refused');
    const { files, folders } = await this.walk(prefix);
    let deleted = 0;
    for (const { key } of files) {
      if (await unlink(this.fileOf(key))) deleted++;
    }
    await this.prune(folders);
    return deleted;
  }

  /** Files on a local disk have no URL of their own: Vireo serves them. */
  async presignGet(): Promise<null> {
    return null;
  }

  private fileOf(key: string): string {
    const segments = checkKey(key);
    if (segments.some((s) => s.startsWith(PARTIAL))) {
      throw new ObjectKeyError(key, `segments starting with "${PARTIAL}" are reserved`);
    }
    return path.join(this.root, ...segments);
  }

  /** Writes beside the target, then renames over it: a reader sees the old file or the new one, whole. */
  private async replace(target: string, write: (temp: string) => Promise<void>): Promise<void> {
    const temp = path.join(path.dirname(target), `${PARTIAL}${randomBytes(8).toString('hex')}`);
    try {
      await this.inFolder(target, () => write(temp));
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  /**
   * Creates the file's folder and runs `act` in it. A concurrent delete may remove the folder between
   * mkdir and `act` (it prunes empty folders), so ENOENT is retried a few times.
   */
  private async inFolder(file: string, act: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      try {
        return await act();
      } catch (err) {
        if (codeOf(err) !== 'ENOENT' || attempt >= 3) throw err;
      }
    }
  }

  /** Objects under a prefix, sorted by key, and the folders that held them (deepest first). */
  private async walk(prefix: string) {
    checkPrefix(prefix);
    const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const start = path.join(this.root, ...base.split('/').filter(Boolean));
    const files: Array<{ key: string; size: number }> = [];
    const folders: string[] = [];

    const visit = async (dir: string, keyBase: string, filter: boolean): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      await Promise.all(
        entries.map(async (entry) => {
          const key = keyBase + entry.name;
          if (entry.name.startsWith(PARTIAL) || (filter && !key.startsWith(prefix))) return;
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) {
            folders.push(full);
            return visit(full, `${key}/`, false);
          }
          if (!entry.isFile()) return;
          const stats = await fs.stat(full).catch((err) => {
            if (isMissing(err)) return null; // deleted while listing
            throw err;
          });
          if (stats) files.push({ key, size: stats.size });
        }),
      );
    };
    await visit(start, base, true);
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // The prefix's own folders are pruned too once they are empty.
    for (let dir = start; dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) folders.push(dir);
    return { files, folders };
  }

  /** Removes the given folders and their ancestors below the root, as far as they are empty. */
  private async prune(dirs: string[]): Promise<void> {
    const all = new Set<string>();
    for (let dir of dirs) {
      for (; dir.startsWith(this.root + path.sep) && !all.has(dir); dir = path.dirname(dir)) all.add(dir);
    }
    const deepestFirst = [...all].sort((a, b) => b.length - a.length);
    for (const dir of deepestFirst) {
      await fs.rmdir(dir).catch((err) => {
        if (!['ENOTEMPTY', 'EEXIST', 'ENOENT', 'ENOTDIR'].includes(codeOf(err) ?? '')) throw err;
      });
    }
  }
}

function describe(key: string, stats: BigIntStats): StoredObject {
  return {
    key,
    size: Number(stats.size),
    // Nanosecond mtime: two writes of the same size within a millisecond still differ.
    etag: `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`,
    lastModified: stats.mtime,
    contentType: contentTypeOf(key),
  };
}

function clamp(range: ByteRange, size: number): { start: number; end: number } {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
  if (start >= size) throw new RangeError(`byte range ${start}-${end} starts past the end (${size} bytes)`);
  return { start, end: Math.min(end, size - 1) };
}

/** Answers whether a file was removed; a missing one is fine. */
async function unlink(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}
