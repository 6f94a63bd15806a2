// The one catalogue of job names. A job can be enqueued only through a type declared here (by the
// module that owns the work), and the boot fails when a declared job has no handler: a job enqueued
// somewhere without one would otherwise fail only when it first runs, on some worker, later.
import type { z } from 'zod';

export interface JobType<P> {
  name: string;
  payload: z.ZodType<P>;
  maxAttempts?: number;
}

const declared = new Map<string, JobType<unknown>>();

/** Declares a job type that code may enqueue; its handler is registered with defineJob. */
export function declareJob<P>(type: JobType<P>): JobType<P> {
  const known = declared.get(type.name);
  if (known && known !== (type as JobType<unknown>) && known.payload !== type.payload) {
    throw new Error(`job "${type.name}" is declared twice`);
  }
  declared.set(type.name, type as JobType<unknown>);
  return type;
}

/** Every job type declared in this process so far (modules declare theirs when they are imported). */
export function declaredJobs(): string[] {
  return [...declared.keys()].sort();
}
