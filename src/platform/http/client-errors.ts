// Requests Node's HTTP parser refuses before Fastify sees them (headers too large, a request line that
// is not HTTP, a request that never finished arriving): answered on the socket itself, in the same
// problem+json shape as every other error, and never with any of the request in it.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors/codes.ts';
import { problemFor } from './errors.ts';

const DETAILS: Record<string, [ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: [
    'HEADERS_TOO_LARGE',
    'The request line and headers are larger than this server accepts',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: ['REQUEST_TIMEOUT', 'The request was not received in time'],
};

export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const [code, detail] = DETAILS[err.code ?? ''] ?? ['MALFORMED_REQUEST', 'The request is not valid HTTP'];
    const requestId = randomUUID();
    const problem = problemFor(code, detail);
    const body = JSON.stringify({ ...problem, request_id: requestId });
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'X-Content-Type-Options: nosniff\r\n' +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(err);
}
