// Uploads a local file to Vireo over tus 1.0 (creation, then PATCHes of `chunkBytes`), reading each
// chunk straight from disk as the request goes: a 1 GiB file never sits in memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface TusUploadOptions {
  /** Where Vireo listens, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  token: string;
  file: string;
  /** Bytes per PATCH; the default sends the whole file in one request, as tus-js-client does. */
  chunkBytes?: number;
  /** `Upload-Checksum` of each chunk with this algorithm (costs a read of the chunk beforehand). */
  checksum?: 'sha1' | 'md5' | 'sha256';
}

export interface TusUploadResult {
  videoId: string;
  /** From the creation request to the answer of the last PATCH (the upload is then complete). */
  elapsedMs: number;
  requests: number;
}

const TUS_VERSION = '1.0.0';

export async function tusUpload(opts: TusUploadOptions): Promise<TusUploadResult> {
  const { size } = await fs.stat(opts.file);
  const chunk = opts.chunkBytes ?? size;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const started = performance.now();
  try {
    const created = await request(agent, `${opts.baseUrl}/api/v1/uploads`, 'POST', {
      'upload-length': String(size),
      'upload-metadata': `filename ${Buffer.from(path.basename(opts.file)).toString('base64')}`,
      authorization: `Bearer ${opts.token}`,
    });
    const location = header(created, 'location', 201);
    const videoId = header(created, 'vireo-video-id', 201);
    let offset = 0;
    let requests = 1;
    while (offset < size) {
      const end = Math.min(size, offset + chunk);
      const headers: Record<string, string> = {
        'content-type': 'application/offset+octet-stream',
        'content-length': String(end - offset),
        'upload-offset': String(offset),
        authorization: `Bearer ${opts.token}`,
      };
      if (opts.checksum) headers['upload-checksum'] = await checksumOf(opts.file, offset, end, opts.checksum);
      const res = await request(agent, new URL(location, opts.baseUrl).href, 'PATCH', headers, {
        file: opts.file,
        start: offset,
        end,
      });
      offset = Number(header(res, 'upload-offset', 204));
      requests++;
    }
    return { videoId, elapsedMs: performance.now() - started, requests };
  } finally {
    agent.destroy();
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  agent: http.Agent,
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: { file: string; start: number; end: number },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'tus-resumable': TUS_VERSION, ...headers } });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    if (!body) {
      req.end();
      return;
    }
    // Big reads: fewer, larger writes to the socket.
    const stream = createReadStream(body.file, {
      start: body.start,
      end: body.end - 1,
      highWaterMark: 1024 * 1024,
    });
    stream.on('error', (err) => req.destroy(err));
    stream.pipe(req);
  });
}

function header(res: Answer, name: string, status: number): string {
  const value = res.headers[name];
  if (res.status !== status || typeof value !== 'string') {
    throw new Error(
      `tus answered ${res.status} (expected ${status} with ${name}): ${res.body.slice(0, 300)}`,
    );
  }
  return value;
}

async function checksumOf(file: string, start: number, end: number, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const part of createReadStream(file, { start, end: end - 1, highWaterMark: 1024 * 1024 })) {
    hash.update(part as Buffer);
  }
  return `${algorithm} ${hash.digest('base64')}`;
}
