import type { Config } from '../../config.ts';
import type { Db } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import type { VideosService } from '../videos/index.ts';

export interface UploadsDeps {
  db: Db;
  /** For the upload locks, held on a connection of their own (see pg-locker.ts). */
  databaseUrl: string;
  videos: VideosService;
  store: ObjectStore;
  config: Config['uploads'];
  logger: Logger;
}
