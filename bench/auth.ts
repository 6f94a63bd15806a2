// Authenticated reads and sign-in against a real Vireo (HTTP server + PostgreSQL), with a bare Fastify
// route answering the same JSON in the same run as the baseline. Each measurement is taken three times,
// interleaving Vireo and the baseline, and the medians are reported.
import fastify from 'fastify';
import { startApp } from '../src/app.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { describe, type LoadOptions, type LoadResult, load, median } from './lib/load.ts';
import type { Benchmark, Metrics } from './lib/report.ts';
import { openScene, sceneConfig } from './lib/scene.ts';

const READ_CONNECTIONS = 16;
const LOGIN_CONNECTIONS = 4;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
if (!(SECONDS > 0)) throw new Error(`BENCH_SECONDS must be a positive number of seconds`);
const WARMUP_SECONDS = Math.min(2, SECONDS);
const REPEATS = 3;
const PASSWORD = 'correct horse battery staple';

async function run(progress: (line: string) => void): Promise<Metrics> {
  const scene = await openScene(progress, 'vireo-bench-data-');
  try {
    const config = sceneConfig(scene, {
      ACCESS_TOKEN_TTL_SECONDS: '3600',
      LOGIN_LIMIT_PER_IP: '1000000',
      LOGIN_LIMIT_PER_ACCOUNT: '1000000',
      REGISTER_LIMIT_PER_IP: '1000000',
    });
    const app = await startApp(config, { role: 'api', logger: createLogger('silent') });
    scene.defer(() => app.stop());
    const url = app.url!;

    const registered = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench_user', email: 'bench@example.test', password: PASSWORD }),
    });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
    const { access_token: token } = (await registered.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${token}` };
    const me = await fetch(`${url}/api/v1/users/me`, { headers });
    if (me.status !== 200) throw new Error(`users/me answered ${me.status}`);
    const meBody: unknown = await me.json();

    // The baseline: what Fastify alone costs for the same answer (no hooks, schemas, logging or database).
    const bare = fastify();
    bare.get('/api/v1/users/me', async () => meBody);
    const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
    scene.defer(() => bare.close());

    const read = (base: string): LoadOptions => ({
      url: `${base}/api/v1/users/me`,
      headers,
      connections: READ_CONNECTIONS,
      seconds: SECONDS,
    });
    const login: LoadOptions = {
      url: `${url}/api/v1/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench_user', password: PASSWORD }),
      connections: LOGIN_CONNECTIONS,
      seconds: SECONDS,
    };

    progress(`warm-up, ${WARMUP_SECONDS} s each`);
    for (const o of [read(url), read(bareUrl), login]) await load({ ...o, seconds: WARMUP_SECONDS });

    const meRuns: LoadResult[] = [];
    const bareRuns: LoadResult[] = [];
    for (let i = 1; i <= REPEATS; i++) {
      meRuns.push(await load(read(url)));
      progress(`GET /api/v1/users/me  run ${i}: ${describe(meRuns.at(-1)!)}`);
      bareRuns.push(await load(read(bareUrl)));
      progress(`bare Fastify route    run ${i}: ${describe(bareRuns.at(-1)!)}`);
    }
    const loginRuns: LoadResult[] = [];
    for (let i = 1; i <= REPEATS; i++) {
      loginRuns.push(await load(login));
      progress(`POST /api/v1/auth/login run ${i}: ${describe(loginRuns.at(-1)!)}`);
    }

    const m = median(meRuns);
    const b = median(bareRuns);
    const l = median(loginRuns);
    return {
      me_p50_ms: { value: m.p50Ms, unit: 'ms' },
      me_p99_ms: { value: m.p99Ms, unit: 'ms' },
      me_rps: { value: m.perSecond, unit: 'req/s' },
      bare_p50_ms: { value: b.p50Ms, unit: 'ms' },
      bare_p99_ms: { value: b.p99Ms, unit: 'ms' },
      bare_rps: { value: b.perSecond, unit: 'req/s' },
      me_p99_vs_bare_ratio: { value: m.p99Ms / b.p99Ms, unit: 'x', target: '<= 2' },
      me_rps_vs_bare_ratio: { value: m.perSecond / b.perSecond, unit: 'x' },
      login_per_s: { value: l.perSecond, unit: 'logins/s' },
      login_p50_ms: { value: l.p50Ms, unit: 'ms' },
    };
  } finally {
    await scene.close();
  }
}

export default {
  description: `GET /api/v1/users/me vs a bare Fastify route (${READ_CONNECTIONS} connections), and sign-in (${LOGIN_CONNECTIONS} connections); median of ${REPEATS} × ${SECONDS} s`,
  run,
} satisfies Benchmark;
