// /metrics for Prometheus. It tells a lot about an instance (its routes, traffic, memory), so by default
// it is served nowhere: METRICS_TOKEN serves it on the API's listener to requests bearing that token;
// METRICS_PORT serves it on a listener of its own, on METRICS_HOST (loopback unless told otherwise),
// and then never on the API's. A token set with METRICS_PORT is asked for there too.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorCode } from '../errors/codes.ts';
import { DomainError } from '../errors/domain-error.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { problemFor } from './errors.ts';
import type { HttpServer } from './server.ts';

export interface MetricsAccess {
  token?: string;
  listen?: { host: string; port: number };
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** /metrics on the API's listener, when a token is set and no listener of its own is. */
export function metricsRoute(app: HttpServer, metrics: Metrics, access: MetricsAccess): void {
  const { token } = access;
  if (access.listen || !token) return;
  app.get('/metrics', {
    config: { auth: 'public' },
    schema: { hide: true },
    handler: async (request, reply) => {
      const refused = refusal(request.headers.authorization, token);
      if (refused) {
        throw new DomainError(refused, ERROR_DETAIL[refused], { headers: { 'www-authenticate': 'Bearer' } });
      }
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  });
}

/** The listener of its own, when METRICS_PORT is set. */
export async function startMetricsListener(
  metrics: Metrics,
  access: MetricsAccess,
  logger: Logger,
): Promise<MetricsListener | undefined> {
  const { listen, token } = access;
  if (!listen) return undefined;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      return sendProblem(res, 'NOT_FOUND', 'Only GET /metrics is served here');
    }
    const refused = token ? refusal(req.headers.authorization, token) : undefined;
    if (refused) return sendProblem(res, refused, ERROR_DETAIL[refused]);
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, {
          'content-type': metrics.registry.contentType,
          'content-length': Buffer.byteLength(text),
        });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        sendProblem(res, 'INTERNAL_ERROR', 'The metrics could not be collected');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const url = `http://${host}:${port}/metrics`;
  logger.info({ url }, 'metrics listener open');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const ERROR_DETAIL: Partial<Record<ErrorCode, string>> = {
  TOKEN_MISSING: 'The metrics need "Authorization: Bearer <METRICS_TOKEN>"',
  TOKEN_INVALID: 'That is not the metrics token',
};

/** Why `authorization` does not carry `token`, or undefined when it does. Compared in constant time. */
function refusal(
  authorization: string | undefined,
  token: string,
): 'TOKEN_MISSING' | 'TOKEN_INVALID' | undefined {
  if (!authorization) return 'TOKEN_MISSING';
  const given = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token)) ? undefined : 'TOKEN_INVALID';
}

function sendProblem(res: ServerResponse<IncomingMessage>, code: ErrorCode, detail = ''): void {
  const requestId = randomUUID();
  const body = JSON.stringify({ ...problemFor(code, detail), request_id: requestId });
  res.writeHead(problemFor(code, detail).status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
    ...(code === 'TOKEN_MISSING' || code === 'TOKEN_INVALID' ? { 'www-authenticate': 'Bearer' } : {}),
  });
  res.end(body);
}
