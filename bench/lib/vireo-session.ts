// A real Vireo (HTTP API, job worker, ffmpeg) for the media benchmarks: one account, and a way to push
// a file through a tus upload and time what follows — `playable`, `ready`, and each stage between.
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { type ProgressEvent, videoTopic } from '../../src/modules/videos/index.ts';
import { createLogger } from '../../src/platform/observability/logger.ts';
import { NotifyHub } from '../../src/platform/realtime/notify-hub.ts';
import type { Scene } from './scene.ts';

const TUS = { 'tus-resumable': '1.0.0' };
const READY_TIMEOUT_MS = 30 * 60_000;
const seconds = (ms: number) => ms / 1000;

/** Where one processing run spends its time, from the pipeline's own stage reports (seconds). */
export interface Stages {
  pickup: number;
  link: number;
  probe: number;
  encode: number;
  package: number;
  finish: number;
}

export const STAGE_LABELS: Record<keyof Stages, string> = {
  pickup: 'job pickup',
  link: 'source link',
  probe: 'probe+plan',
  encode: 'encode',
  package: 'packaging',
  finish: 'stills+store+ready',
};

/** Seconds to `playable` and to `ready`. */
export interface ProcessTimes {
  /** From the last byte of the upload leaving the client: what the uploader waits for. */
  playable: number;
  /** From the commit of the upload's completion (after the source is in the store). */
  playableAfterCommit: number;
  /** From the commit of the upload's completion: processing alone. */
  ready: number;
  stages: Stages;
}

export interface VireoSession {
  url: string;
  token: string;
  /** Uploads the file (tus: creation, then one PATCH) and waits until the video is ready. */
  process(file: string): Promise<ProcessTimes>;
}

interface TimedEvent {
  at: number;
  data: ProgressEvent;
}

export async function openVireo(
  scene: Scene,
  env: Record<string, string>,
  name: string,
): Promise<VireoSession> {
  const databaseUrl = await scene.database(`vireo_bench_${name}`);
  const config = loadConfig({
    ...env,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: path.join(scene.dir, `data-${name}`),
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    ACCESS_TOKEN_TTL_SECONDS: '86400',
  });
  const app = await startApp(config, { role: 'all', logger: createLogger('silent') });
  scene.defer(() => app.stop());
  const url = app.url!;
  // A listener of our own sees every announcement, for the stage breakdown.
  const hub = new NotifyHub(databaseUrl, scene.logger);
  await hub.start();
  scene.defer(() => hub.stop());

  const registered = await fetch(`${url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bench_user', email: 'bench@example.test', password: 'correct horse' }),
  });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
  const { access_token: token } = (await registered.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${token}` };

  const process = async (file: string): Promise<ProcessTimes> => {
    const bytes = await fs.readFile(file);
    const created = await fetch(`${url}/api/v1/uploads`, {
      method: 'POST',
      headers: {
        ...TUS,
        ...auth,
        'upload-length': String(bytes.length),
        'upload-metadata': `filename ${Buffer.from(path.basename(file)).toString('base64')}`,
      },
    });
    const id = created.headers.get('vireo-video-id');
    const location = created.headers.get('location');
    if (created.status !== 201 || !id || !location)
      throw new Error(`tus creation answered ${created.status}`);
    const marks: TimedEvent[] = [];
    let settle: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      settle = resolve;
    });
    // `uploaded` is announced in the transaction that marks the upload complete and enqueues the job:
    // it arrives when that transaction commits, by the same path as `playable` and `ready`.
    const unsubscribe = hub.subscribe(videoTopic(id), (data) => {
      const e = data as ProgressEvent;
      marks.push({ at: performance.now(), data: e });
      if (e.status === 'ready' || e.status === 'failed') settle();
    });
    const timer = setTimeout(settle, READY_TIMEOUT_MS);
    let sent: number;
    try {
      sent = await patch(new URL(location, url), bytes, { ...TUS, ...auth });
      await finished;
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
    const at = (pick: (e: ProgressEvent) => boolean, nth = 0) => {
      const found = marks.filter((m) => pick(m.data))[nth];
      if (!found)
        throw new Error(`video ${id}: no such announcement in ${JSON.stringify(marks.map((m) => m.data))}`);
      return found.at;
    };
    const uploaded = at((e) => e.status === 'uploaded');
    const ready = at((e) => e.status === 'ready');
    // A source shorter than the time to its last segment goes straight to ready: watchable from then.
    const playable = marks.some((m) => m.data.status === 'playable')
      ? at((e) => e.status === 'playable')
      : ready;
    return {
      playable: seconds(playable - sent),
      playableAfterCommit: seconds(playable - uploaded),
      ready: seconds(ready - uploaded),
      stages: stagesOf(marks, uploaded, ready),
    };
  };
  return { url, token, process };
}

/**
 * One tus PATCH with the whole file; answers when its last byte left for the server (handed to the
 * kernel), the moment the uploader starts waiting. The completion (source into the store, commit) runs
 * before the answer, so it counts in that wait.
 */
function patch(target: URL, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = http.request(
      target,
      {
        method: 'PATCH',
        headers: {
          ...headers,
          'content-type': 'application/offset+octet-stream',
          'upload-offset': '0',
          'content-length': String(body.length),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 204 ? resolve(sent) : reject(new Error(`tus PATCH answered ${res.statusCode}`)),
        );
      },
    );
    req.on('finish', () => {
      sent = performance.now();
    });
    req.on('error', reject);
    req.end(body);
  });
}

function stagesOf(marks: TimedEvent[], uploaded: number, ready: number): Stages {
  const running = (e: ProgressEvent) => e.status === 'processing' || e.status === 'playable';
  const stage = (s: string, nth = 0) => {
    const found = marks.filter((m) => running(m.data) && m.data.stage === s)[nth];
    if (!found) throw new Error(`no ${s} announcement`);
    return found.at;
  };
  const claimed = stage('probing', 0); // startProcessing
  const linked = stage('probing', 1); // the source is in the work folder
  const probed = stage('encoding');
  const encoded = stage('packaging');
  const packaged = stage('thumbnails');
  return {
    pickup: seconds(claimed - uploaded),
    link: seconds(linked - claimed),
    probe: seconds(probed - linked),
    encode: seconds(encoded - probed),
    package: seconds(packaged - encoded),
    finish: seconds(ready - packaged),
  };
}

export function describeStages(s: Stages): string {
  return (Object.keys(STAGE_LABELS) as (keyof Stages)[])
    .map((k) => `${STAGE_LABELS[k]} ${s[k].toFixed(2)}`)
    .join(', ');
}
