import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineJob } from '../../platform/jobs/definition.ts';
import type { UploadsService } from './service.ts';
import type { TusEndpoint } from './tus.ts';

export const expireUploadsJobName = 'uploads.expire_uploads';

/**
 * Every 15 minutes: removes unfinished uploads older than UPLOAD_EXPIRY_SECONDS (their videos fail
 * with UPLOAD_EXPIRED, as do videos left uploading with no upload behind them), the temporary files
 * and quota reservations of one-request uploads cut off by a crash, and finishes completions a crash
 * cut short.
 */
export function expireUploadsJob(
  tus: TusEndpoint,
  uploads: UploadsService,
  dir: string,
  expirySeconds: number,
) {
  return defineJob({
    name: expireUploadsJobName,
    payload: z.object({}),
    cron: '*/15 * * * *',
    handler: async () => {
      await tus.resumeCompletions();
      await (await tus.server()).cleanUpExpiredUploads();
      await tus.abandonOrphans();
      await removeStaleForms(path.join(dir, 'forms'), Date.now() - expirySeconds * 1000);
      await uploads.removeExpiredReservations();
      return 'done';
    },
  });
}

async function removeStaleForms(dir: string, before: number): Promise<void> {
  for (const name of await fs.readdir(dir).catch(() => [])) {
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat && stat.mtimeMs < before) await fs.rm(file, { force: true });
  }
}
