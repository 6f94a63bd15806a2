// ObjectStore on a local folder: keys are relative paths below the root.
import type { Readable } from 'node:stream';
import type { ByteRange, ObjectStore, StoredObject } from './object-store.ts';

export class FsObjectStore implements ObjectStore {
  constructor(readonly root: string) {}

  async put(_key: string, _body: Buffer | string, _contentType?: string): Promise<void> {
    throw new Error('not implemented');
  }
  async putFile(
    _key: string,
    _file: string,
    _opts?: { contentType?: string; move?: boolean },
  ): Promise<void> {
    throw new Error('not implemented');
  }
  async stat(_key: string): Promise<StoredObject | null> {
    throw new Error('not implemented');
  }
  async get(_key: string, _range?: ByteRange): Promise<{ object: StoredObject; body: Readable } | null> {
    throw new Error('not implemented');
  }
  async download(_key: string, _file: string): Promise<void> {
    throw new Error('not implemented');
  }
  async list(_prefix: string): Promise<Array<{ key: string; size: number }>> {
    throw new Error('not implemented');
  }
  async delete(_key: string): Promise<void> {
    throw new Error('not implemented');
  }
  async deletePrefix(_prefix: string): Promise<number> {
    throw new Error('not implemented');
  }
}
