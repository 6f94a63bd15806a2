// Several nodes on one PostgreSQL and one shared upload folder: a tus upload may send each request to
// another node, two nodes never write one upload at once (the upload locks are PostgreSQL advisory
// locks), progress reaches an SSE client on a node that is not encoding, and a job runs on one worker.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ERRORS } from '@tus/server';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { z } from 'zod';
import { PgLocker } from '../src/modules/uploads/pg-locker.ts';
import { defineJob } from '../src/platform/jobs/definition.ts';
import { enqueue } from '../src/platform/jobs/enqueue.ts';
import { registerUser, startTestApp, type TestApp } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { makeClip, tempDir } from './helpers/media.ts';
import { assertProblem } from './helpers/problems.ts';
import { readEvents } from './helpers/sse.ts';
import { createUpload, headUpload, openPatch, patchUpload } from './helpers/tus.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = pino({ level: 'silent' });

async function waitFor(what: string, probe: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Advisory locks with one bigint key (what upload locks are) granted in a database, by anyone. Locks
 * with two integer keys (objsubid 2) are other parts' (the event relay's leader lock, worker markers).
 */
async function advisoryLocks(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>(
      `select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
       where l.locktype = 'advisory' and l.objsubid = 1 and l.granted and d.datname = current_database()`,
    );
    return rows[0]!.n;
  } finally {
    await c.end();
  }
}

/** Nodes sharing one database and one data folder (the documented deployment: a shared volume). */
async function startNodes(roles: Array<'api' | 'all'>, env: Record<string, string> = {}) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-nodes-'));
  const shared = { ...env, UPLOAD_DIR: path.join(root, 'uploads'), STORAGE_DIR: path.join(root, 'storage') };
  const nodes: TestApp[] = [];
  let database: TestDatabase | undefined;
  for (const role of roles) {
    const node = await startTestApp(shared, { role }, { database });
    database ??= node.db;
    nodes.push(node);
  }
  return {
    nodes,
    root,
    async stop() {
      for (const node of nodes.slice(1)) await node.stop({ keepDatabase: true });
      await nodes[0]?.stop();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

describe('upload locks in PostgreSQL', () => {
  let db: TestDatabase;
  const lockers: PgLocker[] = [];
  const node = (opts: { acquireTimeoutMs?: number } = {}) => {
    const locker = new PgLocker({ url: db.url, logger: silent, ...opts });
    lockers.push(locker);
    return locker;
  };

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    for (const locker of lockers) await locker.close();
    await db.drop();
  });

  it('a lock held on one node makes another wait, asks the holder to let go, then passes', async () => {
    const [a, b] = [node(), node()];
    const held = a.newLock('upload-1');
    let askedToRelease = 0;
    await held.lock(new AbortController().signal, () => {
      askedToRelease++;
    });
    let acquired = false;
    const waiting = b
      .newLock('upload-1')
      .lock(new AbortController().signal, () => {})
      .then(() => {
        acquired = true;
      });
    await waitFor('the holder to be asked to let go', () => askedToRelease > 0);
    assert.equal(acquired, false, 'the second node waits while the first holds the lock');
    // Another upload is not held up by it.
    const other = b.newLock('upload-2');
    await other.lock(new AbortController().signal, () => {});
    await other.unlock();

    await held.unlock();
    await waiting;
    assert.equal(acquired, true);
    assert.equal(await advisoryLocks(db.url), 1);
  });

  it('inside one node, a second request waits for the first as well', async () => {
    const a = node();
    const first = a.newLock('upload-3');
    let asked = false;
    await first.lock(new AbortController().signal, () => {
      asked = true;
      void first.unlock();
    });
    const second = a.newLock('upload-3');
    await second.lock(new AbortController().signal, () => {});
    assert.equal(asked, true, 'the holder was asked to let go');
    await second.unlock();
  });

  it('gives up after the timeout, or when the request ends, and leaves no lock behind', async () => {
    const holder = node();
    const impatient = node({ acquireTimeoutMs: 300 });
    const before = await advisoryLocks(db.url);
    const held = holder.newLock('upload-4');
    await held.lock(new AbortController().signal, () => {}); // a holder that ignores the request
    await assert.rejects(
      impatient.newLock('upload-4').lock(new AbortController().signal, () => {}),
      (err) => err === ERRORS.ERR_LOCK_TIMEOUT,
    );
    const ended = new AbortController();
    const waiting = node()
      .newLock('upload-4')
      .lock(ended.signal, () => {});
    await sleep(100);
    ended.abort();
    await assert.rejects(waiting, (err) => err === ERRORS.ERR_LOCK_TIMEOUT);
    assert.equal(await advisoryLocks(db.url), before + 1, 'only the holder has it');
    await held.unlock();
    assert.equal(await advisoryLocks(db.url), before);
  });

  it('a lost connection releases its locks and asks their holders to stop', async () => {
    const a = node();
    const held = a.newLock('upload-5');
    let asked = false;
    await held.lock(new AbortController().signal, () => {
      asked = true;
    });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where application_name = 'vireo upload locks' and datname = current_database()
           and pid in (select pid from pg_locks where locktype = 'advisory' and granted)`,
      );
    } finally {
      await admin.end();
    }
    await waitFor('the holder to be told', () => asked);
    const b = node();
    const taken = b.newLock('upload-5');
    await taken.lock(new AbortController().signal, () => {});
    await held.unlock(); // the old holder finishes without harm
    await taken.unlock();
    // The node that lost its connection takes locks again on a new one.
    const again = a.newLock('upload-6');
    await again.lock(new AbortController().signal, () => {});
    await again.unlock();
  });
});

describe('tus uploads across nodes', () => {
  let cluster: Awaited<ReturnType<typeof startNodes>>;
  let a: TestApp;
  let b: TestApp;
  let token: string;

  before(async () => {
    cluster = await startNodes(['api', 'api']);
    [a, b] = cluster.nodes as [TestApp, TestApp];
    token = (await registerUser(a)).access_token;
  });
  after(async () => {
    await cluster.stop();
  });

  async function storedSource(id: string): Promise<Buffer> {
    return fs.readFile(path.join(cluster.root, 'storage', 'sources', id, 'original'));
  }

  it('completes an upload whose requests alternate between the nodes', async () => {
    const data = randomBytes(1_000_000);
    const created = await createUpload(a, token, { size: data.length });
    assert.equal(created.status, 201);
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    const chunk = 150_000;
    let offset = 0;
    for (let i = 0; offset < data.length; i++) {
      const node = i % 2 === 0 ? b : a;
      // Each chunk asks the other node where to resume, as a client behind a load balancer would.
      const head = await headUpload(node === a ? b : a, token, location);
      assert.equal(Number(head.headers.get('upload-offset')), offset);
      const res = await patchUpload(node, token, location, offset, data.subarray(offset, offset + chunk));
      assert.equal(res.status, 204, JSON.stringify(res.body));
      offset = Number(res.headers.get('upload-offset'));
    }
    const video = await b.app.videos.get(id);
    assert.equal(video?.status, 'uploaded');
    assert.equal(sha(await storedSource(id)), sha(data));
    assert.equal(await advisoryLocks(a.db.url), 0, 'no lock is left behind');
  });

  it('two PATCHes at once on two nodes never write together, and the file stays whole', async () => {
    const data = randomBytes(3_000_000);
    const created = await createUpload(a, token, { size: data.length });
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    const file = path.join(cluster.root, 'uploads', id);
    const onDisk = async () => (await fs.stat(file)).size;

    // On node A, a client sends part of its body, then stalls: a half-open connection.
    const sent = 500_000;
    const stalled = openPatch(a, token, location, 0, data.length);
    let stalledEndedAt = 0;
    const stalledEnded = new Promise<void>((resolve) => {
      const end = () => {
        stalledEndedAt ||= Date.now();
        resolve();
      };
      stalled.on('response', (res) => {
        res.resume();
        res.on('end', end);
        res.on('close', end);
      });
      stalled.on('close', end);
    });
    stalled.write(data.subarray(0, sent));
    await waitFor('node A to store what was sent', async () => (await onDisk()) === sent);

    // The client resumes on node B at the offset it sees: B must wait until A has let go.
    const resumed = await patchUpload(b, token, location, sent, data.subarray(sent));
    const resumedAt = Date.now();
    await Promise.race([stalledEnded, sleep(15_000)]);
    stalled.destroy();
    assert.equal(resumed.status, 204, JSON.stringify(resumed.body));
    assert.ok(stalledEndedAt > 0, 'node A was made to end its request');
    assert.ok(stalledEndedAt <= resumedAt, 'node A ended its request before node B wrote');
    assert.equal((await b.app.videos.get(id))?.status, 'uploaded');
    assert.equal(sha(await storedSource(id)), sha(data));
  });

  it('two full PATCHes racing at one offset: one is written whole, the other refused', async () => {
    const size = 4_000_000;
    const created = await createUpload(a, token, { size });
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    const x = randomBytes(size);
    const y = randomBytes(size);
    const [ra, rb] = await Promise.all([
      patchUpload(a, token, location, 0, x),
      patchUpload(b, token, location, 0, y),
    ]);
    const statuses = [ra.status, rb.status].sort();
    // The loser is refused (409: the offset moved), or cut off by the winner and answered with what it
    // wrote; either way each byte in the file comes from one request, at the offset tus reported.
    assert.ok(statuses.includes(204), `statuses ${statuses}`);
    const head = await headUpload(a, token, location);
    const offset = Number(head.headers.get('upload-offset'));
    let content: Buffer;
    if (offset === size) {
      content = await storedSource(id);
    } else {
      content = await fs.readFile(path.join(cluster.root, 'uploads', id));
    }
    assert.equal(content.length, offset);
    const fromX = content.equals(x.subarray(0, offset));
    const fromY = content.equals(y.subarray(0, offset));
    assert.ok(fromX || fromY, 'the file holds the bytes of one request only');
    assert.equal(await advisoryLocks(a.db.url), 0);
  });
});

describe('processing across nodes', () => {
  // Node A and C run workers; node B serves HTTP only.
  let cluster: Awaited<ReturnType<typeof startNodes>>;
  let a: TestApp;
  let b: TestApp;
  let c: TestApp;
  let clips: string;
  const ran: Array<{ node: string; n: number }> = [];
  const countJob = (node: string) =>
    defineJob({
      name: 'test.count_runs',
      payload: z.object({ n: z.number().int() }),
      handler: async ({ n }) => {
        ran.push({ node, n });
        await sleep(100);
        return 'done';
      },
    });

  before(async () => {
    const env = { LADDER_RUNGS: '240', SEGMENT_SECONDS: '1', ENCODE_PRESET: 'ultrafast' };
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-nodes-'));
    const shared = {
      ...env,
      UPLOAD_DIR: path.join(root, 'uploads'),
      STORAGE_DIR: path.join(root, 'storage'),
    };
    a = await startTestApp(shared, { role: 'all', jobs: [countJob('A')] });
    b = await startTestApp(shared, { role: 'api' }, { database: a.db });
    c = await startTestApp(shared, { role: 'all', jobs: [countJob('C')] }, { database: a.db });
    cluster = {
      nodes: [a, b, c],
      root,
      async stop() {
        await c.stop({ keepDatabase: true });
        await b.stop({ keepDatabase: true });
        await a.stop();
        await fs.rm(root, { recursive: true, force: true });
      },
    };
    clips = await tempDir();
  });
  after(async () => {
    await cluster.stop();
    await fs.rm(clips, { recursive: true, force: true });
  });

  async function uploadClip(node: TestApp, token: string, name: string): Promise<string> {
    const data = await fs.readFile(await makeClip(clips, name, { width: 320, height: 240, seconds: 2 }));
    const created = await createUpload(node, token, {
      size: data.length,
      metadata: { filename: `${name}.mp4` },
    });
    const done = await patchUpload(node, token, created.headers.get('location')!, 0, data);
    assert.equal(done.status, 204);
    return created.headers.get('vireo-video-id')!;
  }

  it('an SSE client on a node without a worker hears the progress of the node that encodes', async () => {
    const creator = await registerUser(b);
    const data = await fs.readFile(await makeClip(clips, 'sse', { width: 320, height: 240, seconds: 2 }));
    const created = await createUpload(b, creator.access_token, { size: data.length });
    const location = created.headers.get('location')!;
    const id = created.headers.get('vireo-video-id')!;
    assert.equal(
      (await patchUpload(b, creator.access_token, location, 0, data.subarray(0, 1000))).status,
      204,
    );

    let subscribed!: () => void;
    const first = new Promise<void>((resolve) => {
      subscribed = resolve;
    });
    const events = readEvents(
      `${b.url}/api/v1/videos/${id}/events`,
      creator.access_token,
      120_000,
      subscribed,
    );
    await first; // the stream's first event follows its subscription: nothing can be missed now
    const done = await patchUpload(b, creator.access_token, location, 1000, data.subarray(1000));
    assert.equal(done.status, 204);

    const seen = await events;
    assert.equal(seen.at(-1)?.event, 'ready', JSON.stringify(seen));
    assert.ok(
      seen.some((e) => e.data.status === 'processing' && e.data.stage === 'encoding'),
      JSON.stringify(seen),
    );
    assert.equal((await b.app.videos.get(id))?.status, 'ready');
  });

  it('each job runs on exactly one worker', async () => {
    const jobs = 20;
    await b.app.database.db.transaction().execute(async (tx) => {
      for (let n = 0; n < jobs; n++) await enqueue(tx, countJob('-'), { n });
    });
    await waitFor('every job to run', () => ran.length >= jobs, 60_000);
    await sleep(1000); // time for a second run of any job, were there one
    const runs = new Map<number, number>();
    for (const { n } of ran) runs.set(n, (runs.get(n) ?? 0) + 1);
    assert.equal(runs.size, jobs);
    assert.ok(
      [...runs.values()].every((count) => count === 1),
      JSON.stringify(ran),
    );
    const byNode = new Set(ran.map((r) => r.node));
    assert.deepEqual([...byNode].sort(), ['A', 'C'], 'both workers took jobs');
  });

  it('each uploaded video is processed once, by one of the workers', async () => {
    const creator = await registerUser(b);
    const ids: string[] = [];
    for (const [i, node] of [a, b, c].entries())
      ids.push(await uploadClip(node, creator.access_token, `v${i}`));
    await waitFor(
      'every video to be ready',
      async () => {
        const videos = await Promise.all(ids.map((id) => b.app.videos.get(id)));
        assert.ok(
          videos.every((v) => v?.status !== 'failed'),
          JSON.stringify(videos.map((v) => v?.failure_message)),
        );
        return videos.every((v) => v?.status === 'ready');
      },
      120_000,
    );
    const { rows } = await sql<{ id: string; media_version: number }>`
      select id, media_version from videos where id in (${sql.join(ids)})`.execute(b.app.database.db);
    assert.deepEqual(
      rows.map((r) => r.media_version),
      [1, 1, 1],
      'a second run would have started a new media version',
    );
  });
});

describe('a request that cannot get its upload lock', () => {
  let cluster: Awaited<ReturnType<typeof startNodes>>;
  let holder: PgLocker;

  before(async () => {
    cluster = await startNodes(['api'], { UPLOAD_LOCK_TIMEOUT_MS: '300' });
    holder = new PgLocker({ url: cluster.nodes[0]!.db.url, logger: silent });
  });
  after(async () => {
    await holder.close();
    await cluster.stop();
  });

  it('answers 423 UPLOAD_LOCKED once the timeout is past, and writes nothing', async () => {
    const [node] = cluster.nodes;
    const { access_token: token } = await registerUser(node!);
    const created = await createUpload(node!, token, { size: 1000 });
    const id = created.headers.get('vireo-video-id')!;
    // Another node's request holds the upload and does not let go.
    const held = holder.newLock(id);
    await held.lock(new AbortController().signal, () => {});
    try {
      const res = await patchUpload(node!, token, created.headers.get('location')!, 0, randomBytes(100));
      assertProblem(res, 423, 'UPLOAD_LOCKED');
    } finally {
      await held.unlock();
    }
    const head = await headUpload(node!, token, created.headers.get('location')!);
    assert.equal(head.headers.get('upload-offset'), '0');
  });
});
