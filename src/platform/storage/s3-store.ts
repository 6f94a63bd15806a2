// ObjectStore on an S3-compatible bucket (AWS S3, MinIO, R2, ...): keys below an optional prefix.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { contentTypeOf } from './content-types.ts';
import { ObjectKeyError, ObjectNotFoundError } from './errors.ts';
import { checkKey, checkPrefix } from './keys.ts';
import type { ByteRange, ObjectStore, StoredObject } from './object-store.ts';
import { createS3Client, type S3ConnectionOptions } from './s3-client.ts';

export interface S3StoreOptions extends S3ConnectionOptions {
  bucket: string;
  /** A folder of the bucket that holds every key, e.g. `vireo/`; absent: the bucket's root. */
  prefix?: string;
}

/** S3 answers at most this many keys per listing and deletes at most this many per request. */
const BATCH = 1000;
/** The longest a presigned URL may live (SigV4). */
const MAX_PRESIGN_SECONDS = 7 * 86_400;

export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;

  constructor(opts: S3StoreOptions) {
    this.client = createS3Client(opts);
    this.bucket = opts.bucket;
    const prefix = opts.prefix ?? '';
    checkPrefix(prefix);
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  /**
   * The content type is taken from the key's extension, as the folder driver does, whatever
   * `contentType` says: both drivers then describe an object alike.
   */
  async put(key: string, body: Buffer | string, _contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentType: contentTypeOf(key),
      }),
    );
  }

  /** Streams the file: one PUT while it fits in a part (5 MiB), a multipart upload beyond. */
  async putFile(
    key: string,
    file: string,
    opts: { contentType?: string; move?: boolean } = {},
  ): Promise<void> {
    const objectKey = this.objectKey(key);
    const body = createReadStream(file);
    try {
      await new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: objectKey, Body: body, ContentType: contentTypeOf(key) },
      }).done();
    } finally {
      body.destroy();
    }
    if (opts.move) await fs.rm(file, { force: true });
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return describe(key, head, head.ContentLength);
    } catch (err) {
      if (isMissingObject(err)) return null;
      throw err;
    }
  }

  /** A range is clamped to the last byte; a start past it throws RangeError. */
  async get(key: string, range?: ByteRange): Promise<{ object: StoredObject; body: Readable } | null> {
    const objectKey = this.objectKey(key);
    if (range) checkRange(range);
    let found: GetObjectCommandOutput;
    try {
      found = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
    } catch (err) {
      if (isMissingObject(err)) return null;
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416) {
        throw new RangeError(`byte range ${range?.start}-${range?.end} starts past the end of ${key}`);
      }
      throw err;
    }
    const body = found.Body as Readable;
    // The whole size is in Content-Range ("bytes 0-99/1000") when a range was answered.
    const total = /\/(\d+)$/.exec(found.ContentRange ?? '')?.[1];
    if (range && total === undefined) {
      body.destroy();
      // An empty object has no range to answer; any other object should have had one.
      if (found.ContentLength === 0)
        throw new RangeError(`byte range ${range.start}-${range.end} of an empty object`);
      throw new Error(`The S3 server ignored the range asked for ${key}`);
    }
    return { object: describe(key, found, total === undefined ? found.ContentLength : Number(total)), body };
  }

  /** Writes beside the target and renames it into place: a failed download leaves no partial file. */
  async download(key: string, file: string): Promise<void> {
    const found = await this.get(key);
    if (!found) throw new ObjectNotFoundError(key);
    const temp = path.join(path.dirname(file), `.partial-${randomBytes(8).toString('hex')}`);
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await pipeline(found.body, createWriteStream(temp));
      await fs.rename(temp, file);
    } catch (err) {
      found.body.destroy();
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    checkPrefix(prefix);
    const found: Array<{ key: string; size: number }> = [];
    for await (const page of this.pages(prefix)) found.push(...page);
    // S3 sorts by UTF-8 bytes; this is the order the folder driver answers.
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  /** Deletes page by page as it lists, up to 1000 keys in one request. */
  async deletePrefix(prefix: string): Promise<number> {
    // One wrong variable must not empty the whole store.
    if (prefix === '') throw new ObjectKeyError(prefix, 'deleting every object is refused');
    checkPrefix(prefix);
    let deleted = 0;
    for await (const page of this.pages(prefix)) {
      if (page.length === 0) continue;
      const answer = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: page.map(({ key }) => ({ Key: this.objectKey(key) })), Quiet: true },
        }),
      );
      const failed = answer.Errors ?? [];
      if (failed.length > 0) {
        const [first] = failed;
        throw new Error(
          `S3 could not delete ${failed.length} of ${page.length} objects, e.g. ${first?.Key}: ${first?.Code} ${first?.Message}`,
        );
      }
      deleted += page.length;
    }
    return deleted;
  }

  /**
   * Signed for a time window rather than for this instant, so the URL stays the same for a while
   * and browsers and CDNs keep what they fetched from it; it is still valid at least
   * `expiresInSeconds` from now.
   */
  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    const objectKey = this.objectKey(key);
    const window = Math.max(1, Math.floor(expiresInSeconds));
    const now = Math.floor(Date.now() / 1000);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }), {
      signingDate: new Date((now - (now % window)) * 1000),
      expiresIn: Math.min(2 * window, MAX_PRESIGN_SECONDS),
    });
  }

  /** Closes the client's idle connections. */
  destroy(): void {
    this.client.destroy();
  }

  /** The key inside the bucket; checks the key as every driver does. */
  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  /** Objects under a prefix, one listing page (up to 1000) at a time, keys without the store's prefix. */
  private async *pages(prefix: string): AsyncGenerator<Array<{ key: string; size: number }>> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
          MaxKeys: BATCH,
        }),
      );
      yield (page.Contents ?? [])
        .map((o) => ({ key: (o.Key ?? '').slice(this.prefix.length), size: o.Size ?? 0 }))
        // Folder markers some tools create (`a/b/`) are not objects of ours.
        .filter(({ key }) => key !== '' && !key.endsWith('/'));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

function describe(
  key: string,
  answer: { ETag?: string; LastModified?: Date },
  size: number | undefined,
): StoredObject {
  const etag = answer.ETag ?? '';
  return {
    key,
    size: size ?? 0,
    // Some S3-compatible servers leave the quotes off.
    etag: etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`,
    lastModified: answer.LastModified ?? new Date(0),
    contentType: contentTypeOf(key),
  };
}

/**
 * A 404 for the object. A missing bucket is an error of the setup, not a missing object: it throws
 * (HEAD answers have no body, so there it cannot be told apart).
 */
function isMissingObject(err: unknown): boolean {
  return (
    err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404 && err.name !== 'NoSuchBucket'
  );
}

function checkRange({ start, end }: ByteRange): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}
