// Where s3rver (the S3 server from the npm registry that tests and benchmarks run) answers differently
// from Amazon S3, in ways the storage tests would trip on. Each fix states the S3 behaviour it restores.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);
// s3rver ships no types; these are the parts used here.
const FilesystemStore: new (root: string) => object = require('@20minutes/s3rver/lib/stores/filesystem.js');
const S3Object: new (
  bucket: string,
  key: string,
  content: Readable | null,
  metadata: Record<string, unknown>,
) => S3rverObject = require('@20minutes/s3rver/lib/models/object.js');
const signatureV4: {
  getStringToSign: (request: { uri: string; headers: Headers }, ...rest: unknown[]) => string;
} = require('@20minutes/s3rver/lib/signature/v4.js');

interface S3rverObject {
  bucket: string;
  key: string;
  content: Readable | Buffer | null;
  metadata: Record<string, unknown>;
  range?: { start: number; end: number };
}
type Headers = Record<string, string | undefined>;

/** Set by the HTTP handler (process.ts) to the path exactly as the client sent it. */
export const RAW_PATH_HEADER = 'x-local-s3-raw-path';

/**
 * SigV4 signs the request path as sent (`/bucket/` for a bucket, `/key` on a bucket's own host name).
 * s3rver rebuilds it from the bucket and key instead, so path-style bucket requests of the current AWS
 * SDK (which end in a slash) and every virtual-host request failed with SignatureDoesNotMatch.
 */
export function signRequestPathAsSent(): void {
  const original = signatureV4.getStringToSign;
  signatureV4.getStringToSign = (request, ...rest) =>
    original({ ...request, uri: request.headers[RAW_PATH_HEADER] ?? request.uri }, ...rest);
}

const OBJECT_SUFFIX = '._S3rver_object';
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * s3rver's folder store with S3's consistency: a PUT replaces an object whole (s3rver wrote into the
 * live file, so readers saw a mix of two writes), a GET streams the very version it describes and
 * honours `bytes=0-0` (s3rver sent the whole object), listings are sorted by key (pagination relies on
 * it), and deletes never race with writes in the same folder.
 */
export class AtomicFilesystemStore extends FilesystemStore {
  declare getResourcePath: (bucket: string, key: string | undefined, resource: string) => string;
  declare getBucketPath: (bucket: string) => string;
  declare getMetadata: (bucket: string, key: string) => Promise<Record<string, unknown>>;

  /** Writes all of `content`, answering its size and MD5 (s3rver answered before a Buffer was written). */
  async putContent(file: string, content: Readable | Buffer): Promise<[number, string]> {
    const md5 = createHash('md5');
    let size = 0;
    const body = Buffer.isBuffer(content) ? Readable.from([content]) : content;
    await pipeline(
      body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(file),
    );
    return [size, md5.digest('hex')];
  }

  /** Writes beside the object, then renames over it: readers see the old version or the new one. */
  async putObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    const target = this.getResourcePath(object.bucket, object.key, 'object');
    const temp = `${target}.${randomBytes(6).toString('hex')}.partial`;
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      const [size, md5] = await this.putContent(temp, object.content as Readable | Buffer);
      // Metadata first: an object is listed or served only once its metadata exists.
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      await fs.rename(temp, target);
      return { size, md5 };
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  async putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string) {
    const kept = Object.fromEntries(
      Object.entries(metadata).filter(
        ([name]) =>
          name.startsWith('x-amz-meta-') ||
          [
            'cache-control',
            'content-disposition',
            'content-encoding',
            'content-language',
            'content-type',
            'expires',
            'x-amz-storage-class',
            'x-amz-website-redirect-location',
          ].includes(name),
      ),
    );
    if (md5) await replaceFile(this.getResourcePath(bucket, key, 'object.md5'), md5);
    await replaceFile(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(kept));
  }

  /** Describes and streams one open file, so size and bytes belong to the same version. */
  async getObject(bucket: string, key: string, options?: { start?: number; end?: number }) {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.getResourcePath(bucket, key, 'object'), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const stats = await handle.stat();
      const metadata = {
        ...(await this.getMetadata(bucket, key)),
        'content-length': stats.size,
        'last-modified': stats.mtime.toUTCString(),
      };
      const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
      const range = { start: options?.start ?? 0, end: Math.min(options?.end ?? Infinity, stats.size - 1) };
      if (ranged && range.start > range.end) {
        // Unsatisfiable (S3 answers 416): a range and no content.
        await handle.close();
        const object = new S3Object(bucket, key, null, metadata);
        object.range = range;
        return object;
      }
      const content = handle.createReadStream(ranged ? range : {});
      const object = new S3Object(bucket, key, content, metadata);
      if (ranged) object.range = range;
      return object;
    } catch (err) {
      await handle.close();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Removes the object's files. Empty folders stay: pruning them raced with writes into them. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await Promise.all(
      ['object', 'object.md5', 'metadata.json'].map((resource) =>
        fs.rm(this.getResourcePath(bucket, key, resource), { force: true }),
      ),
    );
  }

  /** Keys in S3's order (UTF-8 bytes); files removed while walking are skipped, not an error. */
  async listObjects(
    bucket: string,
    options: { delimiter?: string; startAfter?: string; prefix?: string; maxKeys?: number },
  ) {
    const { delimiter = '', startAfter = '', prefix = '', maxKeys = Number.POSITIVE_INFINITY } = options;
    const bucketPath = this.getBucketPath(bucket);
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const keys = (await objectKeys(path.join(bucketPath, folder), folder))
      .filter((key) => key.startsWith(prefix) && byUtf8(key, startAfter) > 0)
      .sort(byUtf8);

    const commonPrefixes = new Set<string>();
    const chosen: string[] = [];
    let isTruncated = false;
    for (const key of keys) {
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut !== -1) {
        commonPrefixes.add(key.slice(0, cut + delimiter.length));
        continue;
      }
      if (chosen.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      chosen.push(key);
    }
    const described = await Promise.all(
      chosen.map(async (key) => {
        const metadata = await this.getMetadata(bucket, key).catch((err) => {
          if (err.code === 'ENOENT') return null; // deleted meanwhile
          throw err;
        });
        return metadata && new S3Object(bucket, key, null, metadata);
      }),
    );
    return {
      objects: described.filter((o) => o !== null),
      commonPrefixes: [...commonPrefixes].sort(byUtf8),
      isTruncated,
    };
  }
}

async function replaceFile(file: string, data: string): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.partial`;
  await fs.writeFile(temp, data);
  await fs.rename(temp, file);
}

/** Every object key below a folder of a bucket. */
async function objectKeys(dir: string, keyBase: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
  const nested = await Promise.all(
    entries.map(async (entry) => {
      // s3rver keeps multipart uploads in progress in `._S3rver_uploads` folders.
      if (entry.isDirectory() && !entry.name.includes('._S3rver_')) {
        return objectKeys(path.join(dir, entry.name), `${keyBase}${entry.name}/`);
      }
      return entry.isFile() && entry.name.endsWith(OBJECT_SUFFIX)
        ? [keyBase + entry.name.slice(0, -OBJECT_SUFFIX.length)]
        : [];
    }),
  );
  return nested.flat();
}
