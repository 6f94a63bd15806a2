// The job runner: graphile-worker inside `vireo all`, or alone in `vireo worker` on as many nodes as you
// like. Jobs are locked in PostgreSQL, so each runs on exactly one worker; a dead worker's jobs are
// found within seconds by the liveness sweep (liveness.ts) and retried elsewhere.
import { EventEmitter } from 'node:events';
import {
  parseCronItems,
  type Runner,
  run,
  type TaskList,
  type WorkerEvents,
  Logger as WorkerLogger,
} from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { JobOutcome, JobRegistry, RunningCheck } from './definition.ts';
import { type LivenessOptions, WorkerLiveness } from './liveness.ts';

export interface WorkerOptions {
  pool: pg.Pool;
  registry: JobRegistry;
  logger: Logger;
  concurrency: number;
  pollIntervalMs: number;
  /** How long a stop waits for running jobs before it hands them back to the queue. */
  shutdownTimeoutMs: number;
  /** Sweep timing of the dead-worker detection; the defaults suit production. */
  liveness?: Pick<LivenessOptions, 'intervalMs' | 'graceMs'>;
}

export async function startWorker(opts: WorkerOptions): Promise<Runner> {
  const taskList: TaskList = {};
  /** Runs of this process, `<job id>:<attempt>`: known running without asking the database. */
  const ours = new Set<string>();
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
      // A signal per job, so that listeners a handler adds go away with the job.
      const job = new AbortController();
      const handBack = () => job.abort(new Error('handed back: the worker shut down while the job ran'));
      if (helpers.abortSignal.aborted) handBack();
      else helpers.abortSignal.addEventListener('abort', handBack, { once: true });
      const run = `${helpers.job.id}:${helpers.job.attempts}`;
      ours.add(run);
      const running = def.handler(parsed.data, {
        // The pool parses int8 as a number (see database.ts); the job id stays a string.
        jobId: String(helpers.job.id),
        attempts: helpers.job.attempts,
        maxAttempts: helpers.job.max_attempts,
        signal: job.signal,
      });
      // A job still running when the shutdown time is up fails now, while the pool is open, so it is
      // unlocked and retried at once instead of staying locked until graphile-worker's lock timeout.
      // Whatever the abandoned handler does afterwards is ignored.
      running.catch(() => {});
      const handedBack = new Promise<never>((_, reject) => {
        if (job.signal.aborted) reject(job.signal.reason);
        else job.signal.addEventListener('abort', () => reject(job.signal.reason), { once: true });
      });
      handedBack.catch(() => {});
      let outcome: JobOutcome | undefined;
      try {
        outcome = await Promise.race([running, handedBack]);
      } catch (err) {
        // attempts counts this one: the job will not run again.
        if (def.onGiveUp && helpers.job.attempts >= helpers.job.max_attempts) {
          const message = err instanceof Error ? err.message : String(err);
          await def
            .onGiveUp(parsed.data, { cause: 'error', message })
            .catch((hookErr) => helpers.logger.error(`${def.name} give-up hook failed: ${hookErr}`));
        }
        throw err;
      } finally {
        ours.delete(run);
        helpers.abortSignal.removeEventListener('abort', handBack);
      }
      if (outcome === 'skipped') helpers.logger.info(`${def.name} skipped`);
    };
  }
  const crontab = opts.registry
    .all()
    .filter((d) => d.cron)
    .map((d) => ({ task: d.name, match: d.cron!, identifier: d.name, options: { backfillPeriod: 0 } }));
  const running: RunningCheck = async (runs) => {
    const elsewhere = runs.filter((r) => !ours.has(`${r.jobId}:${r.attempt}`));
    const answers = await liveness.running(elsewhere);
    return runs.map((r) => ours.has(`${r.jobId}:${r.attempt}`) || answers[elsewhere.indexOf(r)] === true);
  };
  const removeLeftovers = async () => {
    for (const def of opts.registry.all()) {
      await def
        .removeLeftovers?.(running)
        .catch((err) => opts.logger.warn({ err, job: def.name }, 'removing what dead runs left failed'));
    }
  };
  const liveness = new WorkerLiveness({
    pool: opts.pool,
    registry: opts.registry,
    logger: opts.logger,
    afterSweep: removeLeftovers,
    ...opts.liveness,
  });
  await liveness.connect();
  // A worker that starts after a crash (its own, or another's on this machine) cleans up first.
  await removeLeftovers();
  const events: WorkerEvents = new EventEmitter();
  let marking: Promise<void> | undefined;
  events.on('pool:create', ({ workerPool }) => {
    marking = liveness.hold(workerPool.id);
    marking.catch(() => {}); // awaited below
  });
  let runner: Runner;
  try {
    runner = await startRunner(opts, taskList, crontab, events);
  } catch (err) {
    await liveness.stop();
    throw err;
  }
  try {
    await marking;
    await liveness.held();
  } catch (err) {
    await runner.stop().catch(() => {});
    await liveness.stop();
    throw err;
  }
  liveness.start();
  // The markers go only once the runner has stopped: its running jobs are then back in the queue.
  void runner.promise.then(
    () => liveness.stop(),
    () => liveness.stop(),
  );
  return {
    ...runner,
    stop: async (reason) => {
      try {
        await runner.stop(reason);
      } finally {
        await liveness.stop();
      }
    },
    kill: async (reason) => {
      try {
        await runner.kill(reason);
      } finally {
        await liveness.stop();
      }
    },
  };
}

function startRunner(
  opts: WorkerOptions,
  taskList: TaskList,
  crontab: Parameters<typeof parseCronItems>[0],
  events: WorkerEvents,
): Promise<Runner> {
  return run({
    pgPool: opts.pool,
    events,
    taskList,
    parsedCronItems: parseCronItems(crontab),
    concurrency: opts.concurrency,
    pollInterval: opts.pollIntervalMs,
    noHandleSignals: true,
    gracefulShutdownAbortTimeout: opts.shutdownTimeoutMs,
    // Unbatched (-1, the default), the write that completes or fails a job is not awaited by the
    // runner: stop() would resolve before it and the database close under it, leaving the job locked.
    // Batched, the runner's stop waits for pending writes; a delay of 0 adds no latency.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
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
