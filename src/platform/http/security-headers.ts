// The usual security headers on every answer (nosniff, frame and referrer policies, cross-origin
// isolation), from @fastify/helmet, and a Content-Security-Policy for the pages Vireo serves: the API
// reference at /api/docs now, the web app later. API answers are not stored by any cache unless their
// route says otherwise: many carry tokens (sign-in) or private data (the account, playback URLs).
import helmet from '@fastify/helmet';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';

/** helmet's defaults, changed where noted. */
const CSP_DIRECTIVES = {
  // Players feed media through blob: URLs (Media Source Extensions), from workers of their own.
  'img-src': ["'self'", 'data:', 'blob:'],
  'media-src': ["'self'", 'blob:'],
  'worker-src': ["'self'", 'blob:'],
  'frame-ancestors': ["'self'"],
  // A self-hosted instance is often reached over plain HTTP on a local network: upgrading its own
  // subresources to HTTPS would break every page there.
  'upgrade-insecure-requests': null,
};

export async function installSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    // Set below from a header built once: the plugin builds its policy again on every request
    // (~17 µs here, as much as a whole authenticated read from the session cache).
    contentSecurityPolicy: false,
    // TLS ends at the operator's proxy, which decides on HSTS for its whole domain.
    strictTransportSecurity: false,
  });
  const csp = contentSecurityPolicy();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('content-security-policy', csp);
    done();
  });
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1')) return;
    // First, so that answers refused by the auth guard are covered too; a route may set its own.
    route.onRequest = [noStore, ...[route.onRequest ?? []].flat()];
  });
}

const noStore: onRequestHookHandler = (_request, reply, done) => {
  reply.header('cache-control', 'no-store');
  done();
};

/** helmet's CSP middleware, which the plugin exports at run time but its typings do not name. */
type CspMiddleware = (options: {
  useDefaults: boolean;
  directives: Record<string, string[] | null>;
}) => (req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => void;

/** The header helmet's own middleware writes for CSP_DIRECTIVES on top of its defaults. */
function contentSecurityPolicy(): string {
  let header = '';
  const { contentSecurityPolicy: csp } = helmet as unknown as { contentSecurityPolicy: CspMiddleware };
  csp({ useDefaults: true, directives: CSP_DIRECTIVES })(
    {},
    { setHeader: (_, value) => (header = value) },
    () => {},
  );
  if (!header) throw new Error('helmet wrote no Content-Security-Policy');
  return header;
}
