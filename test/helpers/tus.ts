// A small tus 1.0 client for tests: creation, HEAD, PATCH, DELETE, and a PATCH cut off halfway.
import http from 'node:http';
import type { ApiResponse } from './app.ts';

export const TUS_VERSION = '1.0.0';
export const OFFSET_STREAM = 'application/offset+octet-stream';

/** Upload-Metadata: comma-separated `key base64(value)` pairs. */
export function tusMetadata(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

export interface TusRequest {
  token?: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/** One tus request; Tus-Resumable is sent unless the headers say otherwise. */
export async function tusFetch(
  t: { url: string },
  method: string,
  path: string,
  opts: TusRequest = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'tus-resumable': TUS_VERSION, ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const body = opts.body && new Uint8Array(opts.body);
  const res = await fetch(`${t.url}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // tus's own answers are plain text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export async function createUpload(
  t: { url: string },
  token: string,
  opts: { size: number; metadata?: Record<string, string>; body?: Buffer; headers?: Record<string, string> },
): Promise<ApiResponse> {
  const metadata = tusMetadata(opts.metadata ?? { filename: 'clip.mp4' });
  const headers: Record<string, string> = {
    'upload-length': String(opts.size),
    ...(metadata ? { 'upload-metadata': metadata } : {}),
    ...opts.headers,
  };
  if (opts.body) headers['content-type'] = OFFSET_STREAM;
  return tusFetch(t, 'POST', '/api/v1/uploads', { token, headers, body: opts.body });
}

export function headUpload(t: { url: string }, token: string, location: string) {
  return tusFetch(t, 'HEAD', location, { token });
}

export function patchUpload(
  t: { url: string },
  token: string,
  location: string,
  offset: number,
  chunk: Buffer,
  headers: Record<string, string> = {},
) {
  return tusFetch(t, 'PATCH', location, {
    token,
    body: chunk,
    headers: { 'content-type': OFFSET_STREAM, 'upload-offset': String(offset), ...headers },
  });
}

/**
 * A PATCH announcing `length` bytes whose body the caller writes, or cuts off: for tests of requests
 * that stall or break midway. Errors of a connection cut on purpose are ignored.
 */
export function openPatch(
  t: { url: string },
  token: string,
  location: string,
  offset: number,
  length: number,
  headers: Record<string, string> = {},
): http.ClientRequest {
  const req = http.request(`${t.url}${location}`, {
    method: 'PATCH',
    headers: {
      'tus-resumable': TUS_VERSION,
      authorization: `Bearer ${token}`,
      'content-type': OFFSET_STREAM,
      'upload-offset': String(offset),
      'content-length': String(length),
      ...headers,
    },
  });
  req.on('error', () => {});
  return req;
}

/**
 * A PATCH that announces `announced` bytes, sends `sent` of them, waits for the server to store them,
 * then drops the connection: what a client sees when its network goes away mid-upload.
 */
export async function interruptedPatch(
  t: { url: string },
  token: string,
  location: string,
  offset: number,
  sent: Buffer,
  announced: number,
): Promise<void> {
  const req = openPatch(t, token, location, offset, announced);
  req.on('response', (res) => res.resume());
  await new Promise<void>((resolve) => req.write(sent, () => resolve()));
  await new Promise((r) => setTimeout(r, 400));
  req.destroy();
  await new Promise((r) => setTimeout(r, 100));
}
