// The job runner: graphile-worker inside `vireo all`, or alone in `vireo worker` on as many nodes as you
// like. Jobs are locked in PostgreSQL, so each runs on exactly one worker; a dead worker's jobs are
// unlocked after graphile-worker's lock timeout and retried elsewhere.
import { parseCronItems, type Runner, run, type TaskList, Logger as WorkerLogger } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { JobRegistry } from './definition.ts';

export interface WorkerOptions {
  pool: pg.Pool;
  registry: JobRegistry;
  logger: Logger;
  concurrency: number;
  pollIntervalMs: number;
}

export async function startWorker(opts: WorkerOptions): Promise<Runner> {
  const taskList: TaskList = {};
  for (const def of opts.registry.all()) {
    taskList[def.name] = async (raw, helpers) => {
      const parsed = def.payload.safeParse(raw ?? {});
      if (!parsed.success) {
        // A malformed payload will not heal on retry: fail it for good, loudly.
        helpers.logger.error(`invalid payload for ${def.name}: ${parsed.error.message}`);
        throw new Error(
          `invalid payload: ${parsed.error.issues.map((i) => i.path.join('.') || i.message).join(', ')}`,
        );
      }
      const outcome = await def.handler(parsed.data, {
        jobId: helpers.job.id,
        attempts: helpers.job.attempts,
        maxAttempts: helpers.job.max_attempts,
      });
      if (outcome === 'skipped') helpers.logger.info(`${def.name} skipped`);
    };
  }
  const crontab = opts.registry
    .all()
    .filter((d) => d.cron)
    .map((d) => ({ task: d.name, match: d.cron!, identifier: d.name, options: { backfillPeriod: 0 } }));
  return run({
    pgPool: opts.pool,
    taskList,
    parsedCronItems: parseCronItems(crontab),
    concurrency: opts.concurrency,
    pollInterval: opts.pollIntervalMs,
    noHandleSignals: true,
    logger: workerLogger(opts.logger),
  });
}

function workerLogger(logger: Logger): WorkerLogger {
  const log = logger.child({ area: 'vireo:jobs' });
  return new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...meta };
    if (level === 'error') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else if (level === 'info') log.info(fields, message);
    else log.debug(fields, message);
  });
}
