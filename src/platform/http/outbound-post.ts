// One HTTP POST to a URL a user gave (a webhook endpoint, a push service), to the address already checked
// (outbound-address.ts): the connection never resolves the name again. Redirects are not followed (a 3xx is a failed attempt), the whole exchange is
// bounded in time, and only the first KiB of the answer is read.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './outbound-address.ts';

export const SNIPPET_BYTES = 1024;

export interface SendResult {
  status: number | null;
  error: string | null;
  snippet: string | null;
  durationMs: number;
}

export function send(
  url: string,
  to: ResolvedAddress,
  headers: Record<string, string>,
  body: string | Buffer,
  timeoutMs: number,
): Promise<SendResult> {
  const started = performance.now();
  const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({
    ...r,
    durationMs: Math.round(performance.now() - started),
  });
  // With autoSelectFamily (Node's default) the socket asks for every address at once.
  const pinned: LookupFunction = (_host, opts, callback) => {
    if ((opts as { all?: boolean }).all) callback(null, [{ address: to.address, family: to.family }]);
    else callback(null, to.address, to.family);
  };
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinned,
        signal: AbortSignal.timeout(timeoutMs),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          const snippet = Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8');
          resolve(done({ status: res.statusCode ?? null, error: null, snippet: snippet || null }));
        };
        res.on('data', (chunk: Buffer) => {
          if (size >= SNIPPET_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
          // Enough read: the rest of a large answer is not waited for.
          if (size >= SNIPPET_BYTES) {
            res.destroy();
            finish();
          }
        });
        res.on('end', finish);
        res.on('error', () => finish());
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const error =
        err.name === 'AbortError' || err.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : (err.code ?? err.message);
      resolve(done({ status: null, error, snippet: null }));
    });
    req.end(body);
  });
}
