// HTTP load at a fixed concurrency with autocannon, generated in a worker thread so that the load does not
// share an event loop with the server under test (which runs in the benchmark's main thread).
import { Worker } from 'node:worker_threads';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  /** Answers with a 2xx status. */
  requests: number;
  /** 2xx answers per second over the whole measurement. */
  perSecond: number;
  /** Latency percentiles of 2xx answers, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers, connection errors and timeouts. */
  failures: number;
}

// Worker threads do not inherit the TypeScript loader on Node 20: the worker registers it itself.
const BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.resolve('./load-worker.ts'))}); })`;

/** One measurement; fails when any request fails, since its numbers would then mean nothing. */
export async function load(opts: LoadOptions): Promise<LoadResult> {
  const result = await new Promise<LoadResult>((resolve, reject) => {
    const worker = new Worker(BOOT, { eval: true, workerData: opts });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load worker exited (${code}) without a result`)));
  });
  if (result.failures > 0) {
    throw new Error(`${opts.method ?? 'GET'} ${opts.url}: ${result.failures} requests failed under load`);
  }
  return result;
}

/** Field-by-field median of repeated measurements; a noisy machine moves single runs a lot. */
export function median(results: LoadResult[]): LoadResult {
  const mid = (pick: (r: LoadResult) => number) => {
    const values = results.map(pick).sort((a, b) => a - b);
    const half = Math.floor(values.length / 2);
    return values.length % 2 ? values[half]! : (values[half - 1]! + values[half]!) / 2;
  };
  return {
    requests: mid((r) => r.requests),
    perSecond: mid((r) => r.perSecond),
    p50Ms: mid((r) => r.p50Ms),
    p99Ms: mid((r) => r.p99Ms),
    failures: mid((r) => r.failures),
  };
}

export function describe(r: LoadResult): string {
  return `${Math.round(r.perSecond)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`;
}
