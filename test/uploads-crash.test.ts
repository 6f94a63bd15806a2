// A server killed (SIGKILL) while a PATCH is in flight loses no byte it acknowledged: the restarted
// server answers HEAD with at least the last acknowledged offset, the upload resumes from there, and
// the stored source is exactly the file sent. The server is the real `vireo` process.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../scripts/lib/postgres-server.ts';
import { registerUser } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { createUpload, headUpload, OFFSET_STREAM, patchUpload, TUS_VERSION } from './helpers/tus.ts';

const root = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

const running = new Set<ChildProcess>();

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
  output: () => string;
}

/** `node bin/vireo.js api` with only the given settings; answers once /readyz says 200. */
async function startServer(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['bin/vireo.js', 'api'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TMPDIR: os.tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ?? code);
    }),
  );
  const url = `http://127.0.0.1:${env.PORT}`;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.ok(!gone, `vireo exited while starting:\n${output.slice(-3000)}`);
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.status === 200) return { child, url, exited, output: () => output };
    assert.ok(Date.now() < deadline, 'vireo was not ready in time');
    await sleep(50);
  }
}

after(() => {
  // Leave no process behind, whatever failed.
  for (const child of running) child.kill('SIGKILL');
});

describe('an upload across a server crash', () => {
  let db: TestDatabase | undefined;
  let dataDir = '';
  after(async () => {
    await db?.drop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('resumes from the last acknowledged offset after SIGKILL mid-PATCH, with every byte intact', async () => {
    db = await createTestDatabase();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-crash-'));
    const env = {
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
    const data = randomBytes(6 * MiB);
    const first = await startServer(env);
    const { access_token: token } = await registerUser(first);
    const created = await createUpload(first, token, { size: data.length });
    assert.equal(created.status, 201);
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    const file = path.join(dataDir, 'uploads', id);

    // Two chunks are acknowledged.
    let acknowledged = 0;
    for (const size of [MiB, MiB]) {
      const res = await patchUpload(
        first,
        token,
        location,
        acknowledged,
        data.subarray(acknowledged, acknowledged + size),
      );
      assert.equal(res.status, 204);
      acknowledged = Number(res.headers.get('upload-offset'));
    }
    assert.equal(acknowledged, 2 * MiB);

    // A third PATCH announces the rest and is halfway through when the server is killed.
    const inFlight = http.request(`${first.url}${location}`, {
      method: 'PATCH',
      headers: {
        'tus-resumable': TUS_VERSION,
        authorization: `Bearer ${token}`,
        'content-type': OFFSET_STREAM,
        'upload-offset': String(acknowledged),
        'content-length': String(data.length - acknowledged),
      },
    });
    inFlight.on('error', () => {}); // the server dies under it
    inFlight.on('response', (res) => res.resume());
    const sent = acknowledged + 2 * MiB;
    inFlight.write(data.subarray(acknowledged, sent));
    for (let i = 0; i < 500 && (await fs.stat(file)).size <= acknowledged; i++) await sleep(10);
    assert.ok((await fs.stat(file)).size > acknowledged, 'the in-flight PATCH was writing');
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    inFlight.destroy();

    // The restarted server on the same data resumes the upload.
    const second = await startServer(env);
    try {
      const head = await headUpload(second, token, location);
      assert.equal(head.status, 200, second.output());
      const offset = Number(head.headers.get('upload-offset'));
      assert.ok(offset >= acknowledged, `offset ${offset} keeps the ${acknowledged} acknowledged bytes`);
      assert.ok(offset <= sent, `offset ${offset} is no more than was sent`);
      console.log(`# acknowledged ${acknowledged}, sent ${sent}, offset after the restart ${offset}`);
      const done = await patchUpload(second, token, location, offset, data.subarray(offset));
      assert.equal(done.status, 204, JSON.stringify(done.body));
      assert.equal(done.headers.get('upload-offset'), String(data.length));
      const stored = await fs.readFile(path.join(dataDir, 'storage', 'sources', id, 'original'));
      assert.equal(sha(stored), sha(data), 'the stored source is exactly the file sent');
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output());
    }
  });
});
