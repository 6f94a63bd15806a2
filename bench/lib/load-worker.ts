// Runs one autocannon measurement inside a worker thread (see load.ts) and posts back its LoadResult.
// autocannon's own histogram keeps whole milliseconds; a bare route answers in well under one, so the
// latency of every answer is kept here with its sub-millisecond precision.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './load.ts';

const opts = workerData as LoadOptions;
const latencies: number[] = [];
let failures = 0;

const started = performance.now();
const instance = autocannon({
  url: opts.url,
  method: opts.method ?? 'GET',
  headers: opts.headers,
  body: opts.body,
  connections: opts.connections,
  duration: opts.seconds,
  timeout: 30,
});
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  else failures++;
});
const result = await instance;
const elapsedSeconds = (performance.now() - started) / 1000;

const sorted = Float64Array.from(latencies).sort();
const percentile = (p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
const answer: LoadResult = {
  requests: sorted.length,
  perSecond: sorted.length / elapsedSeconds,
  p50Ms: percentile(50),
  p99Ms: percentile(99),
  failures: failures + result.errors,
};
parentPort!.postMessage(answer);
