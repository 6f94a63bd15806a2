// `vireo` as a real process: commands, exit codes, signals, and the embedded PostgreSQL it owns.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../scripts/lib/postgres-server.ts';
import { startApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { readMigrations } from '../src/platform/db/migrator.ts';
import { api } from './helpers/app.ts';
import { serverUrl } from './helpers/database.ts';

const root = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Vireo {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Starts `node bin/vireo.js ...args` with only the given settings (nothing inherited from the test run). */
function vireo(args: string[], env: Record<string, string> = {}, input?: string): Vireo {
  const child = spawn(process.execPath, ['bin/vireo.js', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TMPDIR: os.tmpdir(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  if (input !== undefined) child.stdin!.end(input);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function exitWithin(v: Vireo, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  const result = await Promise.race([v.exited, timeout]);
  clearTimeout(timer);
  assert.notEqual(result, 'timeout', `no exit within ${ms} ms; stderr: ${v.stderr()}`);
  return result as Awaited<Vireo['exited']>;
}

/** Polls /readyz until it answers 200; fails early if the process exits. Answers the seconds it took. */
async function ready(v: Vireo, port: number, since: number, ms = 60_000): Promise<number> {
  let exited = false;
  void v.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + ms;
  for (;;) {
    assert.ok(!exited, `vireo exited while starting:\n${v.stderr()}\n${v.stdout().slice(-3000)}`);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (res?.status === 200) return (Date.now() - since) / 1000;
    await res?.body?.cancel();
    assert.ok(Date.now() < deadline, 'not ready in time');
    await sleep(50);
  }
}

/** Log lines (JSON on stdout) at warn level or above. */
function problems(v: Vireo, except: RegExp[] = []) {
  return v
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level >= 40 && !except.some((re) => re.test(l.msg)));
}

/** Processes whose command line names the folder: the postmaster runs with `-D <folder>`. */
async function processesUsing(folder: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (cmdline.includes(folder) && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** The processes of one PostgreSQL server: its postmaster and the children it forked. */
async function serverProcesses(postmaster: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') continue;
    if (Number(entry) === postmaster || Number(ppid) === postmaster) pids.push(Number(entry));
  }
  return pids;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

after(() => {
  for (const child of running) child.kill('SIGKILL');
});

// Independent short-lived processes: run side by side.
describe('vireo command line', { concurrency: true }, () => {
  it('--help lists the commands and exits 0', async () => {
    const v = vireo(['--help']);
    const { code } = await exitWithin(v, 15_000);
    assert.equal(code, 0);
    for (const command of ['all', 'api', 'worker', 'migrate', 'admin create']) {
      assert.match(v.stdout(), new RegExp(`^\\s+${command}\\s`, 'm'), command);
    }
    assert.equal(v.stderr(), '');
  });

  it('refuses a bad setting with one line naming it, and exits 1', async () => {
    const v = vireo(['api'], { PORT: 'abc' });
    const { code } = await exitWithin(v, 15_000);
    assert.equal(code, 1);
    const lines = v.stderr().trimEnd().split('\n');
    assert.equal(lines.length, 1, v.stderr());
    assert.match(lines[0]!, /\bPORT\b/);
    assert.equal(v.stdout(), '');
  });

  it('refuses an unknown command or option with exit 2', async () => {
    const unknown = vireo(['frobnicate'], {});
    assert.equal((await exitWithin(unknown, 15_000)).code, 2);
    assert.match(unknown.stderr(), /unknown command "frobnicate"/);
    const option = vireo(['api', '--frob'], {});
    assert.equal((await exitWithin(option, 15_000)).code, 2);
    assert.doesNotMatch(option.stderr(), /\n\s+at /, 'no stack trace');
  });
});

describe('vireo with DATABASE_URL', () => {
  const name = `vireo_test_${process.env.VIREO_TEST_RUN}_cli_${randomBytes(3).toString('hex')}`;
  const url = serverUrl(name);
  const admin = () => new pg.Client({ connectionString: process.env.VIREO_TEST_SERVER_URL });

  before(async () => {
    // An empty database, not a clone of the migrated template: `migrate` has all its work to do.
    const c = admin();
    await c.connect();
    await c.query(`create database ${name}`);
    await c.end();
  });
  after(async () => {
    const c = admin();
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });

  it('migrate applies every migration, twice without harm, and exits 0', async () => {
    for (let run = 0; run < 2; run++) {
      const v = vireo(['migrate'], { DATABASE_URL: url, LOG_LEVEL: 'warn' });
      const { code } = await exitWithin(v, 30_000);
      assert.equal(code, 0, v.stderr());
      assert.deepEqual(problems(v), []);
    }
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query('select version from schema_migrations order by version');
      const expected = (await readMigrations()).map((m) => m.version);
      assert.deepEqual(
        rows.map((r) => r.version),
        expected,
      );
      await c.query('select count(*) from graphile_worker.jobs');
    } finally {
      await c.end();
    }
  });

  it('admin create makes an administrator who can sign in', async () => {
    const dbEnv = { DATABASE_URL: url, LOG_LEVEL: 'warn' };
    const v = vireo(
      ['admin', 'create', '--email', 'root@example.test', '--password', 'correct horse battery'],
      dbEnv,
    );
    const { code } = await exitWithin(v, 30_000);
    assert.equal(code, 0, v.stderr());
    assert.match(v.stdout(), /administrator admin created/);

    // The password may come on standard input instead, so it stays out of the process list.
    const piped = vireo(
      ['admin', 'create', '--username', 'second', '--email', 'second@example.test'],
      dbEnv,
      'another fine password\n',
    );
    assert.equal((await exitWithin(piped, 30_000)).code, 0, piped.stderr());

    const again = vireo(
      ['admin', 'create', '--email', 'root@example.test', '--password', 'correct horse battery'],
      dbEnv,
    );
    assert.equal((await exitWithin(again, 30_000)).code, 1);
    assert.equal(again.stderr().trimEnd().split('\n').length, 1, again.stderr());
    assert.match(again.stderr(), /taken|already/i);

    const weak = vireo(
      ['admin', 'create', '--username', 'weak', '--email', 'weak@example.test', '--password', 'short'],
      dbEnv,
    );
    assert.equal((await exitWithin(weak, 30_000)).code, 1);
    assert.match(weak.stderr(), /password/i);

    for (const [username, password, reason] of [
      ['common', 'Password123', /common/],
      ['samename', 'SameName', /username/],
    ] as const) {
      const refused = vireo(
        [
          'admin',
          'create',
          '--username',
          username,
          '--email',
          `${username}@example.test`,
          '--password',
          password,
        ],
        dbEnv,
      );
      assert.equal((await exitWithin(refused, 30_000)).code, 1, refused.stdout());
      assert.equal(refused.stderr().trimEnd().split('\n').length, 1, refused.stderr());
      assert.match(refused.stderr(), reason);
    }

    const config = loadConfig({ DATABASE_URL: url, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' });
    const app = await startApp(config, { role: 'api' });
    try {
      const t = { url: app.url! };
      for (const [login, password] of [
        ['root@example.test', 'correct horse battery'],
        ['second@example.test', 'another fine password'],
      ]) {
        const res = await api(t, 'POST', '/api/v1/auth/login', { body: { email: login, password } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const me = await api(t, 'GET', '/api/v1/users/me', { token: res.body.access_token });
        assert.equal(me.body.role, 'admin');
      }
      for (const [email, password] of [
        ['weak@example.test', 'short'],
        ['common@example.test', 'Password123'],
        ['samename@example.test', 'SameName'],
      ]) {
        const weakLogin = await api(t, 'POST', '/api/v1/auth/login', { body: { email, password } });
        assert.equal(weakLogin.status, 401, email);
      }
    } finally {
      await app.stop();
    }
  });

  it('api serves /readyz and stops on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const started = Date.now();
    const v = vireo(['api'], { DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1' });
    await ready(v, port, started);
    const stopAt = Date.now();
    v.child.kill('SIGTERM');
    const { code } = await exitWithin(v, 5000);
    assert.equal(code, 0, v.stderr());
    console.log(`# api stopped ${Date.now() - stopAt} ms after SIGTERM`);
    assert.deepEqual(problems(v), []);
    assert.equal(v.stderr(), '');
  });
});

describe('vireo all with embedded PostgreSQL', () => {
  let tmp = '';
  let pgData = '';
  const env: Record<string, string> = {};

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-cli-'));
    await fs.chmod(tmp, 0o755); // as root, PostgreSQL runs as the `postgres` user and must reach its folder
    pgData = path.join(tmp, 'data', 'postgres');
    Object.assign(env, {
      DATA_DIR: path.join(tmp, 'data'),
      EMBEDDED_PG_PORT: String(await freePort()),
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      WORKER_POLL_INTERVAL_MS: '200',
    });
  });

  after(async () => {
    // Leave nothing behind, whatever failed.
    for (const pid of await processesUsing(pgData)) process.kill(pid, 'SIGKILL');
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const postmasterPid = async () =>
    Number.parseInt((await fs.readFile(path.join(pgData, 'postmaster.pid'), 'utf8')).split('\n')[0]!, 10);

  async function start(label: string) {
    const startedAt = Date.now();
    const v = vireo(['all'], env);
    const seconds = await ready(v, Number(env.PORT), startedAt);
    console.log(`# ${label}: ready in ${seconds.toFixed(2)} s`);
    return { v, postmaster: await postmasterPid() };
  }

  async function assertNothingLeft(postmaster: number) {
    assert.deepEqual(await processesUsing(pgData), [], 'a process still uses the data folder');
    assert.deepEqual(await serverProcesses(postmaster), [], 'a PostgreSQL process is still running');
    // A clean shutdown removes the lock file.
    await assert.rejects(fs.access(path.join(pgData, 'postmaster.pid')));
  }

  it('starts, stops cleanly, restarts, recovers from kill -9, and leaves nothing behind', async () => {
    // First start: initdb, migrations.
    const first = await start('first start (initdb)');
    assert.ok(isAlive(first.postmaster));
    first.v.child.kill('SIGINT');
    assert.deepEqual(await exitWithin(first.v, 10_000), { code: 0, signal: null });
    await assertNothingLeft(first.postmaster);
    assert.deepEqual(problems(first.v), [], 'shutdown logged warnings or errors');
    assert.equal(first.v.stderr(), '');

    // Second start reuses the cluster.
    const second = await start('second start');
    assert.doesNotMatch(second.v.stdout(), /initialising embedded PostgreSQL/);

    // kill -9: PostgreSQL, in its own process group, outlives Vireo as an orphan.
    second.v.child.kill('SIGKILL');
    assert.equal((await exitWithin(second.v, 5000)).signal, 'SIGKILL');
    await sleep(200);
    assert.ok(isAlive(second.postmaster), 'the orphaned PostgreSQL should still run');

    // The next start stops the orphan and takes over.
    const third = await start('start after kill -9');
    assert.notEqual(third.postmaster, second.postmaster);
    assert.deepEqual(await serverProcesses(second.postmaster), [], 'the orphan is gone');
    assert.match(third.v.stdout(), /stopping PostgreSQL left running by a previous start/);
    third.v.child.kill('SIGTERM');
    assert.deepEqual(await exitWithin(third.v, 10_000), { code: 0, signal: null });
    await assertNothingLeft(third.postmaster);
    assert.deepEqual(problems(third.v, [/left running by a previous start/]), []);
  });

  it('a signal during the boot still stops the embedded PostgreSQL', async () => {
    const v = vireo(['all'], env);
    // PostgreSQL is up once its lock file exists; Vireo is then still connecting and migrating.
    let postmaster = Number.NaN;
    for (let i = 0; i < 600 && Number.isNaN(postmaster); i++) {
      postmaster = await postmasterPid().catch(() => Number.NaN);
      if (Number.isNaN(postmaster)) await sleep(10);
    }
    assert.ok(!Number.isNaN(postmaster), 'PostgreSQL did not start');
    v.child.kill('SIGTERM');
    assert.deepEqual(await exitWithin(v, 15_000), { code: 0, signal: null }, v.stderr());
    await assertNothingLeft(postmaster);
    assert.deepEqual(problems(v), []);
  });
});
