import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import type { JobType } from './catalogue.ts';

export interface EnqueueOptions {
  runAt?: Date;
  /** Jobs with the same key replace each other while pending (deduplication). */
  jobKey?: string;
  /** Jobs in one queue run one at a time, in order. */
  queueName?: string;
  priority?: number;
  maxAttempts?: number;
}

/**
 * Adds a job in the caller's transaction: it exists only if the transaction commits, so work that must
 * follow a state change is never lost between commit and enqueue, nor run for a change rolled back.
 */
export async function enqueue<P>(
  tx: DbOrTx,
  /** Declared with declareJob (catalogue.ts), so the boot knows it needs a handler. */
  job: JobType<P>,
  payload: NoInfer<P>,
  opts: EnqueueOptions = {},
): Promise<string> {
  const checked = job.payload.parse(payload);
  const { rows } = await sql<{ id: string }>`
    select id::text from graphile_worker.add_job(
      identifier => ${job.name},
      payload => ${JSON.stringify(checked)}::json,
      queue_name => ${opts.queueName ?? null},
      run_at => ${opts.runAt ?? null},
      max_attempts => ${opts.maxAttempts ?? job.maxAttempts ?? null},
      job_key => ${opts.jobKey ?? null},
      priority => ${opts.priority ?? null}
    )
  `.execute(tx);
  return rows[0]!.id;
}
