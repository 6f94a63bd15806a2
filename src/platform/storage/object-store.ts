// Where media lives: a local folder by default, an S3-compatible bucket when scaled out.
import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  contentType: string;
}

/** Inclusive byte range, as in HTTP. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectStore {
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  /** Stores a local file; `move` lets a driver on the same disk rename instead of copying. */
  putFile(key: string, file: string, opts?: { contentType?: string; move?: boolean }): Promise<void>;
  stat(key: string): Promise<StoredObject | null>;
  get(key: string, range?: ByteRange): Promise<{ object: StoredObject; body: Readable } | null>;
  /** Copies an object to a local file (the fs driver may link instead). */
  download(key: string, file: string): Promise<void>;
  list(prefix: string): Promise<Array<{ key: string; size: number }>>;
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with prefix; answers how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A short-lived URL a client fetches the object from directly (S3 presigned GET), or null when the
   * driver has none (the folder driver): then Vireo serves the bytes itself.
   */
  presignGet(key: string, expiresInSeconds: number): Promise<string | null>;
}
