// Typed jobs on graphile-worker: a name, a zod payload and a handler, declared by the module that owns
// the work. The registry refuses two jobs with one name, so a typo cannot leave a job without a handler.
import type { z } from 'zod';
import { declaredJobs } from './catalogue.ts';

export interface JobContext {
  jobId: string;
  attempts: number;
  maxAttempts: number;
  /**
   * Aborts when the app stops and SHUTDOWN_TIMEOUT_MS has passed with the job still running: the job is
   * then handed back to the queue, so a long handler (ffmpeg) should stop its work.
   */
  signal: AbortSignal;
}

/** Expected outcomes are returned, not thrown: a job whose subject is gone is `skipped`, not failed. */
export type JobOutcome = 'done' | 'skipped';

/** One run of a job: the job's id and the attempt, as its handler got them (JobContext). */
export interface JobRun {
  jobId: string;
  attempt: number;
}

/** Answers, in order, whether each run is still running on a live worker. */
export type RunningCheck = (runs: JobRun[]) => Promise<boolean[]>;

export interface GiveUpReason {
  /** `error`: the last attempt threw (or was handed back at shutdown); `worker_lost`: its worker died. */
  cause: 'error' | 'worker_lost';
  message: string;
}

export interface JobDefinition<P = unknown> {
  name: string;
  payload: z.ZodType<P>;
  handler: (payload: P, ctx: JobContext) => Promise<JobOutcome | undefined>;
  maxAttempts?: number;
  /**
   * Called once the job will never run again: its last attempt threw, or the worker running it died
   * (found by the liveness sweep). The place to leave the job's subject in a final state instead of
   * mid-work. Must be idempotent: a sweep interrupted before it commits calls it again.
   */
  onGiveUp?: (payload: P, reason: GiveUpReason) => Promise<void>;
  /**
   * Removes what runs of this job left on this machine when they stopped without cleaning up (the
   * scratch files of a killed worker). Called when a worker starts, before it takes jobs, and on each of
   * its liveness sweeps. `running` answers, for each run given, whether a live worker still runs it:
   * look at what is left first and ask after, so that a run starting meanwhile is never taken for dead.
   */
  removeLeftovers?: (running: RunningCheck) => Promise<void>;
  /** Run on a schedule, in crontab syntax (e.g. `0 * * * *`); the payload is then `{}`. */
  cron?: string;
}

export function defineJob<P>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds jobs of every payload type
export type AnyJob = JobDefinition<any>;

export class JobRegistryError extends Error {}

export class JobRegistry {
  private readonly jobs = new Map<string, AnyJob>();

  add(...definitions: AnyJob[]): this {
    for (const def of definitions) {
      if (!/^[a-z][a-z0-9_.:-]*$/.test(def.name)) throw new JobRegistryError(`bad job name "${def.name}"`);
      if (this.jobs.has(def.name)) throw new JobRegistryError(`job "${def.name}" is defined twice`);
      this.jobs.set(def.name, def);
    }
    return this;
  }

  /** Fails when a job that code may enqueue (catalogue.ts) has no handler here. */
  assertHandlesDeclared(): this {
    const missing = declaredJobs().filter((name) => !this.jobs.has(name));
    if (missing.length) {
      throw new JobRegistryError(
        `no handler for job ${missing.map((m) => `"${m}"`).join(', ')}: it can be enqueued, but no module ` +
          'registers a handler for it (defineJob)',
      );
    }
    return this;
  }

  get(name: string): AnyJob | undefined {
    return this.jobs.get(name);
  }

  all(): AnyJob[] {
    return [...this.jobs.values()];
  }
}
