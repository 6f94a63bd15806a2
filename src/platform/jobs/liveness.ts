// Dead-worker detection. graphile-worker frees the jobs of a worker that died only after its 4-hour lock
// timeout. Here each worker process holds a PostgreSQL session lock keyed by the id graphile-worker
// locks jobs with; the server drops it when the process (or its machine) dies. A sweep on every worker
// looks for jobs locked by an id whose session lock is gone, hands them back to the queue, and gives up
// on those that were on their last attempt; then each node removes what dead runs left on its machine.
import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { JobRegistry, JobRun } from './definition.ts';

/** First key of the session locks that say "this locker is alive" ('vire'); the second is hashtext(id). */
const LIVE_NAMESPACE = 0x76697265;
/** Key of the transaction lock that lets one sweep run at a time across all nodes. */
const SWEEP_LOCK = [LIVE_NAMESPACE + 1, 0] as const;

const WORKER_LOST = 'the worker running the job stopped during its last attempt';

export interface LivenessOptions {
  pool: pg.Pool;
  registry: JobRegistry;
  logger: Logger;
  /** How often the sweep runs. */
  intervalMs?: number;
  /**
   * A job locked less than this long ago is left alone, and a sweeper whose own marker is younger than
   * this does not sweep: the marker of a worker that just started (or reconnected) may not be visible yet.
   */
  graceMs?: number;
  /** Run after each sweep, on every node: work local to this machine (leftovers of dead runs). */
  afterSweep?: () => Promise<void>;
}

interface DeadJob {
  id: string;
  task_identifier: string;
  attempts: number;
  max_attempts: number;
  payload: unknown;
}

const LIVE_MARKERS = `
  with live as materialized (
    select objid from pg_locks
    where locktype = 'advisory' and classid = $1::oid and objsubid = 2 and granted
      and database = (select oid from pg_database where datname = current_database())
  )`;

// A hash anti-join on one snapshot of pg_locks (materialized), not a lookup of pg_locks per job. The jobs
// table holds only pending and failed jobs (finished ones are deleted), so the scan stays small.
const DEAD_LOCKERS = `${LIVE_MARKERS}
  select distinct j.locked_by
  from graphile_worker.jobs j
  where j.locked_by is not null
    and j.locked_at < now() - make_interval(secs => $2)
    and not exists (select 1 from live where live.objid = hashtext(j.locked_by)::oid)`;

// A run is its job's id and attempt: each time a worker locks a job, its attempts count goes up. Locked
// within the grace period counts as live, as in DEAD_LOCKERS.
const RUNNING = `${LIVE_MARKERS}
  select exists (
    select 1 from graphile_worker.jobs j
    where j.id = r.job_id and j.attempts = r.attempt and j.locked_by is not null
      and (j.locked_at >= now() - make_interval(secs => $2)
        or exists (select 1 from live where live.objid = hashtext(j.locked_by)::oid))
  ) as running
  from unnest($3::bigint[], $4::int[]) with ordinality as r(job_id, attempt, n)
  order by r.n`;

// The public jobs view leaves out the payload, which a give-up hook needs: it is read from the table.
const JOBS_OF = `
  select j.id::text as id, j.task_identifier, j.attempts, j.max_attempts, p.payload
  from graphile_worker.jobs j
  join graphile_worker._private_jobs p on p.id = j.id
  where j.locked_by = any($1::text[])`;

export class WorkerLiveness {
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly graceMs: number;
  private readonly ids = new Set<string>();
  private client: pg.PoolClient | undefined;
  /** When the markers were last taken; 0 while they are not held. */
  private heldSince = 0;
  private holding: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: LivenessOptions) {
    this.log = opts.logger.child({ area: 'vireo:jobs' });
    // A dead worker's jobs wait at most about interval + grace. Each sweep is one small query.
    this.intervalMs = opts.intervalMs ?? 2000;
    this.graceMs = opts.graceMs ?? 2000;
  }

  /** Takes the connection the markers live on, before any worker id exists, so taking one is a single query. */
  async connect(): Promise<void> {
    this.client = await this.checkout();
  }

  /**
   * Marks `workerId` alive for as long as this process lives. Called synchronously when graphile-worker
   * creates its pool, so the lock query is sent before the pool's first job fetch; the grace period
   * covers the moment between the two.
   */
  hold(workerId: string): Promise<void> {
    this.ids.add(workerId);
    const client = this.client;
    if (!client) return Promise.reject(new Error('worker liveness is not connected'));
    this.holding = this.lock(client, [workerId]);
    return this.holding;
  }

  /** Resolves once every id given to hold() is marked alive. */
  async held(): Promise<void> {
    await this.holding;
    if (this.ids.size === 0) throw new Error('the job runner did not report its worker id');
  }

  /** Sweeps as soon as the grace period allows, then every interval. */
  start(): void {
    const wait = Math.max(0, this.heldSince + this.graceMs - Date.now());
    this.timers.push(setTimeout(() => this.tick(), wait).unref());
    this.timers.push(setInterval(() => this.tick(), this.intervalMs).unref());
  }

  /** Call only once the runner has stopped: until then another node must not take our jobs. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await this.sweeping;
    // Ending the session drops its locks: nothing to unlock one by one.
    this.client?.release(true);
    this.client = undefined;
    this.heldSince = 0;
  }

  /**
   * Hands back the jobs of dead lockers; answers how many jobs it released. Safe to run on several nodes
   * at once: one sweep at a time does the work, the others find nothing left or skip.
   */
  async sweep(): Promise<number> {
    if (!this.heldSince || Date.now() - this.heldSince < this.graceMs) return 0;
    const { rows } = await this.opts.pool.query<{ locked_by: string }>(DEAD_LOCKERS, [
      LIVE_NAMESPACE,
      this.graceMs / 1000,
    ]);
    if (rows.length === 0) return 0;
    return this.release(rows.map((r) => r.locked_by));
  }

  /** Whether each run is still running on a live worker, whichever node it is on. */
  async running(runs: JobRun[]): Promise<boolean[]> {
    if (runs.length === 0) return [];
    const { rows } = await this.opts.pool.query<{ running: boolean }>(RUNNING, [
      LIVE_NAMESPACE,
      this.graceMs / 1000,
      runs.map((r) => r.jobId),
      runs.map((r) => r.attempt),
    ]);
    return rows.map((r) => r.running);
  }

  private async release(dead: string[]): Promise<number> {
    const client = await this.opts.pool.connect();
    try {
      await client.query('begin');
      const { rows: turn } = await client.query<{ ok: boolean }>(
        'select pg_try_advisory_xact_lock($1, $2) as ok',
        [...SWEEP_LOCK],
      );
      if (!turn[0]?.ok) {
        await client.query('rollback');
        return 0;
      }
      // Read again under the sweep lock: another node may have released them meanwhile. A dead locker
      // takes no new job, so the set read here is the set unlocked below.
      const { rows: jobs } = await client.query<DeadJob>(JOBS_OF, [dead]);
      await client.query('select graphile_worker.force_unlock_workers($1::text[])', [dead]);
      const exhausted = jobs.filter((j) => j.attempts >= j.max_attempts);
      const retried = jobs.length - exhausted.length;
      if (exhausted.length > 0) {
        await client.query('select count(*) from graphile_worker.permanently_fail_jobs($1::bigint[], $2)', [
          exhausted.map((j) => j.id),
          WORKER_LOST,
        ]);
      }
      // Workers wait for a notification or their poll; an unlocked job is as good as a new one.
      if (retried > 0) {
        await client.query(`select pg_notify('jobs:insert', $1)`, [JSON.stringify({ count: retried })]);
      }
      // Before commit: should a hook fail, the whole sweep is rolled back and done again next time.
      for (const job of exhausted) await this.giveUp(job);
      await client.query('commit');
      if (jobs.length > 0) {
        this.log.warn(
          { workers: dead, retried, failed: exhausted.map((j) => j.id) },
          'released the jobs of a worker that stopped without handing them back',
        );
      }
      return jobs.length;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private async giveUp(job: DeadJob): Promise<void> {
    const def = this.opts.registry.get(job.task_identifier);
    if (!def?.onGiveUp) return;
    const parsed = def.payload.safeParse(job.payload ?? {});
    if (!parsed.success) {
      this.log.error({ job: job.id, task: job.task_identifier }, 'job given up with an invalid payload');
      return;
    }
    await def.onGiveUp(parsed.data, { cause: 'worker_lost', message: WORKER_LOST });
  }

  private tick(): void {
    if (this.sweeping || this.stopped) return;
    this.sweeping = (async () => {
      if (!this.client) await this.reconnect();
      await this.sweep();
      await this.opts.afterSweep?.();
    })()
      .catch((err) => this.log.warn({ err }, 'worker liveness sweep failed'))
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  private async lock(client: pg.PoolClient, ids: string[]): Promise<void> {
    // Shared: two ids with one hash must never wait for each other; a clash only makes the sweep
    // spare a dead locker, never free a live one.
    await client.query('select pg_advisory_lock_shared($1, hashtext(id)) from unnest($2::text[]) as id', [
      LIVE_NAMESPACE,
      ids,
    ]);
    this.heldSince ||= Date.now();
  }

  private async checkout(): Promise<pg.PoolClient> {
    const client = await this.opts.pool.connect();
    client.on('error', (err) => {
      if (this.client !== client) return;
      // The markers went with the session. Until they are back, other nodes may take this node's jobs.
      this.log.error({ err }, 'worker liveness connection lost; taking the markers again');
      this.client = undefined;
      this.heldSince = 0;
      client.release(err);
    });
    return client;
  }

  private async reconnect(): Promise<void> {
    const client = await this.checkout();
    if (this.stopped) {
      client.release(true);
      return;
    }
    try {
      await this.lock(client, [...this.ids]);
    } catch (err) {
      client.release(true);
      throw err;
    }
    this.client = client;
    this.log.info('worker liveness markers taken again');
  }
}
