// Upload speed: a tus upload of 1 GiB over loopback to Vireo, against `cp` of the same file on the same
// disk, and against the simplest Node HTTP server that writes a request body to a file. Runs
// interleave, each after a `sync`; each is timed until it returns and until its bytes are on disk
// (then `sync`). Medians in seconds.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { fixed, median, seconds } from './media-source.ts';
import type { Scene } from './scene.ts';
import { tusUpload } from './tus-upload.ts';
import type { VireoSession } from './vireo-session.ts';

const SIZE = Number(process.env.BENCH_UPLOAD_BYTES ?? 1024 ** 3);
const run = promisify(execFile);

export interface UploadSpeeds {
  /** Median seconds until the call returned. */
  written: { tus: number; cp: number; bare: number };
  /** Median seconds until the bytes were on disk as well (the call, then `sync`). */
  durable: { tus: number; cp: number; bare: number };
}

export async function measureUploads(
  scene: Scene,
  vireo: VireoSession,
  repeats: number,
  progress: (line: string) => void,
): Promise<UploadSpeeds> {
  const file = path.join(scene.dir, 'upload.bin');
  await writeRandomFile(file, SIZE);
  const copy = path.join(scene.dir, 'copy.bin');
  const bare = await bareReceiver(path.join(scene.dir, 'bare.bin'));
  scene.defer(() => bare.close());
  const ways = {
    tus: () => tusUpload({ baseUrl: vireo.url, token: vireo.token, file }),
    cp: () => run('cp', [file, copy]),
    bare: () => bare.send(file),
  };
  const runs = { tus: [] as Timing[], cp: [] as Timing[], bare: [] as Timing[] };
  try {
    for (let i = 1; i <= repeats; i++) {
      for (const way of ['tus', 'cp', 'bare'] as const) {
        runs[way].push(await timed(ways[way]));
        await fs.rm(copy, { force: true });
        await bare.clear();
      }
      const show = (t: Timing) => `${fixed(t.written)} s (on disk ${fixed(t.durable)} s)`;
      progress(
        `upload ${SIZE / 2 ** 20} MiB run ${i}: tus ${show(runs.tus.at(-1)!)}, cp ${show(runs.cp.at(-1)!)}, ` +
          `bare Node HTTP ${show(runs.bare.at(-1)!)}`,
      );
    }
  } finally {
    await fs.rm(file, { force: true });
  }
  const pick = (key: keyof Timing) => ({
    tus: median(runs.tus.map((t) => t[key])),
    cp: median(runs.cp.map((t) => t[key])),
    bare: median(runs.bare.map((t) => t[key])),
  });
  return { written: pick('written'), durable: pick('durable') };
}

interface Timing {
  written: number;
  durable: number;
}

/** Starts with nothing waiting to be written back, so no run pays for the one before. */
async function timed(work: () => Promise<unknown>): Promise<Timing> {
  await run('sync');
  const started = performance.now();
  await work();
  const written = performance.now();
  await run('sync');
  return { written: seconds(written - started), durable: seconds(performance.now() - started) };
}

/** Incompressible bytes, written in 64 MiB blocks. */
async function writeRandomFile(file: string, size: number): Promise<void> {
  const block = Buffer.alloc(Math.min(size, 64 * 2 ** 20));
  const handle = await fs.open(file, 'w');
  try {
    for (let written = 0; written < size; written += block.length) {
      randomFillSync(block);
      await handle.write(block, 0, Math.min(block.length, size - written));
    }
  } finally {
    await handle.close();
  }
}

/** A server that only writes each request body to one file: what HTTP in Node costs, with no protocol. */
async function bareReceiver(target: string) {
  const server = http.createServer((req, res) => {
    pipeline(req, createWriteStream(target)).then(
      () => res.writeHead(204).end(),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    async send(file: string): Promise<void> {
      const size = (await fs.stat(file)).size;
      await new Promise<void>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'PUT', agent, headers: { 'content-length': size } },
          (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 204 ? resolve() : reject(new Error(`bare ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        createReadStream(file, { highWaterMark: 2 ** 20 }).pipe(req);
      });
    },
    clear: () => fs.rm(target, { force: true }),
    close: async () => {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
