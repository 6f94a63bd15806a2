// A local endpoint for webhook tests: records every request and answers with the statuses it is told.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  /** Path and query the hook was sent to. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; created_at: string; data: Record<string, unknown> };
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedHook[];
  /** Statuses for the next answers, in order; 200 once they run out. */
  answer(...statuses: number[]): void;
  close(): Promise<void>;
}

export async function startReceiver(path = '/hook'): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const queue: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ url: req.url ?? '', headers: req.headers, body, json: JSON.parse(body) });
      const status = queue.shift() ?? 200;
      // A redirect points elsewhere on this receiver: a request there would show it was followed.
      const location = status >= 300 && status < 400 ? { location: '/elsewhere' } : {};
      res
        .writeHead(status, { 'content-type': 'text/plain', ...location })
        .end(status < 300 ? 'thanks' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    answer: (...statuses) => queue.push(...statuses),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
