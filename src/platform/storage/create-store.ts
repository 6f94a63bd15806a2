// Picks the ObjectStore driver the configuration names.
import type { Config } from '../../config.ts';
import { FsObjectStore } from './fs-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore } from './s3-store.ts';

export function createObjectStore(storage: Config['storage']): ObjectStore {
  return storage.driver === 's3' ? new S3ObjectStore(storage.s3) : new FsObjectStore(storage.dir);
}
