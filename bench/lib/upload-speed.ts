// Upload speed: a tus upload of 1 GiB over loopback to Vireo, against `cp` of the same file on the same
// disk, and against the simplest Node HTTP server that writes a request body to a file. Runs
// interleave, each after a `sync`; medians in seconds.
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

export async function measureUploads(
  scene: Scene,
  vireo: VireoSession,
  repeats: number,
  progress: (line: string) => void,
): Promise<{ tus: number; cp: number; bare: number }> {
  const file = path.join(scene.dir, 'upload.bin');
  await writeRandomFile(file, SIZE);
  const bare = await bareReceiver(path.join(scene.dir, 'bare.bin'));
  scene.defer(() => bare.close());
  const runs = { tus: [] as number[], cp: [] as number[], bare: [] as number[] };
  try {
    // Each run starts with nothing waiting to be written back to disk, so none pays for the one before.
    const settle = () => run('sync');
    for (let i = 1; i <= repeats; i++) {
      await settle();
      const tus = await tusUpload({ baseUrl: vireo.url, token: vireo.token, file });
      runs.tus.push(seconds(tus.elapsedMs));
      const copy = path.join(scene.dir, 'copy.bin');
      await settle();
      const started = performance.now();
      await run('cp', [file, copy]);
      runs.cp.push(seconds(performance.now() - started));
      await fs.rm(copy);
      await settle();
      runs.bare.push(await bare.send(file));
      progress(
        `upload ${SIZE / 2 ** 20} MiB run ${i}: tus ${fixed(runs.tus.at(-1)!)} s, cp ${fixed(runs.cp.at(-1)!)} s, ` +
          `bare Node HTTP ${fixed(runs.bare.at(-1)!)} s (${tus.requests} tus requests)`,
      );
    }
  } finally {
    await fs.rm(file, { force: true });
  }
  return { tus: median(runs.tus), cp: median(runs.cp), bare: median(runs.bare) };
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
    async send(file: string): Promise<number> {
      const size = (await fs.stat(file)).size;
      const started = performance.now();
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
      const elapsed = seconds(performance.now() - started);
      await fs.rm(target, { force: true });
      return elapsed;
    },
    close: async () => {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
