// A local Web Push service for tests, strict as a real one: each message must carry a VAPID
// `Authorization: vapid t=<JWT>, k=<public key>` whose ES256 signature verifies with k, whose audience
// is this service's origin and whose expiry is within a day (RFC 8292); its aes128gcm body is decrypted
// with the browser's private key and auth secret (RFC 8291), as the browser would.
import { createECDH, type ECDH, randomBytes } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { importJWK, type JWTPayload, jwtVerify } from 'jose';

// http_ece (a dependency of web-push) ships no types.
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(body: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer;
};

/** What a browser makes when it subscribes: its key pair and auth secret. */
export interface Browser {
  ecdh: ECDH;
  keys: { p256dh: string; auth: string };
}

export function newBrowser(): Browser {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    ecdh,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

export interface ReceivedPush {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The `k` of the VAPID header. */
  vapidKey: string;
  claims: JWTPayload;
  /** The decrypted message: what the service worker would show. */
  message: { id: number; type: string; title: string; body: string; url: string; created_at: string };
}

export interface PushService {
  origin: string;
  /** An endpoint of this service for one browser. */
  endpointFor(browser: Browser): string;
  received: ReceivedPush[];
  /** Messages refused, and why (a bad signature, audience, expiry or body). */
  refused: string[];
  /** Statuses for the next answers to one endpoint, in order; 201 once they run out. */
  answer(endpoint: string, ...statuses: number[]): void;
  close(): Promise<void>;
}

export async function startPushService(): Promise<PushService> {
  const browsers = new Map<string, Browser>();
  const received: ReceivedPush[] = [];
  const refused: string[] = [];
  const queues = new Map<string, number[]>();
  let origin = '';

  const verify = async (req: http.IncomingMessage, body: Buffer): Promise<ReceivedPush> => {
    const browser = browsers.get(req.url ?? '');
    if (!browser) throw new Error(`no subscription at ${req.url}`);
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? '');
    if (!auth) throw new Error(`not a VAPID authorization: ${req.headers.authorization}`);
    const [, token, k] = auth as unknown as [string, string, string];
    const raw = Buffer.from(k, 'base64url');
    if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 key');
    const key = await importJWK(
      {
        kty: 'EC',
        crv: 'P-256',
        x: raw.subarray(1, 33).toString('base64url'),
        y: raw.subarray(33).toString('base64url'),
      },
      'ES256',
    );
    // Checks the signature, the audience, and that it has not expired.
    const { payload: claims } = await jwtVerify(token, key, { algorithms: ['ES256'], audience: origin });
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 86_400) {
      throw new Error(`exp must be within 24 hours: ${claims.exp}`);
    }
    if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new Error('bad sub');
    if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('not aes128gcm');
    if (!req.headers.ttl) throw new Error('no TTL');
    const plain = ece.decrypt(body, {
      version: 'aes128gcm',
      privateKey: browser.ecdh,
      authSecret: browser.keys.auth,
    });
    return {
      path: req.url ?? '',
      headers: req.headers,
      vapidKey: k,
      claims,
      message: JSON.parse(plain.toString('utf8')),
    };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      verify(req, Buffer.concat(chunks)).then(
        (push) => {
          received.push(push);
          res.writeHead(queues.get(push.path)?.shift() ?? 201).end();
        },
        (err: Error) => {
          refused.push(err.message);
          res.writeHead(403).end(err.message);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let n = 0;
  return {
    origin,
    endpointFor(browser) {
      const path = `/push/${++n}-${randomBytes(6).toString('hex')}`;
      browsers.set(path, browser);
      return `${origin}${path}`;
    },
    received,
    refused,
    answer: (endpoint, ...statuses) => {
      const path = new URL(endpoint).pathname;
      queues.set(path, [...(queues.get(path) ?? []), ...statuses]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
