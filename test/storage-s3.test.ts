// The S3 driver against a real S3-protocol server on this machine (s3rver, scripts/lib/s3-server.ts):
// the same contract as the folder driver, path-style and virtual-host style, then what only S3 does.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import Fastify from 'fastify';
import { type LocalS3Server, startS3Server } from '../scripts/lib/s3-server.ts';
import { FsObjectStore } from '../src/platform/storage/fs-store.ts';
import { sendObject } from '../src/platform/storage/object-responses.ts';
import type { ObjectStore } from '../src/platform/storage/object-store.ts';
import { lookupLocalhost } from '../src/platform/storage/s3-client.ts';
import { S3ObjectStore } from '../src/platform/storage/s3-store.ts';
import { tempDir } from './helpers/media.ts';
import { objectStoreContract } from './helpers/object-store-contract.ts';

let s3: LocalS3Server;
before(async () => {
  s3 = await startS3Server();
});
after(() => s3.stop());

/** A store on a bucket of its own, made on the server. */
async function freshStore(opts: { pathStyle: boolean; prefix?: string }): Promise<S3ObjectStore> {
  const bucket = `b${randomBytes(6).toString('hex')}`;
  const store = new S3ObjectStore({
    endpoint: opts.pathStyle ? s3.endpoint : s3.vhostEndpoint,
    region: s3.region,
    bucket,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    forcePathStyle: opts.pathStyle,
    prefix: opts.prefix,
  });
  await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
  return store;
}

/** Buckets are left to the server's folder, removed when it stops. */
const underTest = (opts: { pathStyle: boolean; prefix?: string }) => async () => {
  const store = await freshStore(opts);
  return { store, cleanup: async () => store.destroy() };
};

objectStoreContract('S3ObjectStore, path-style', underTest({ pathStyle: true }));
objectStoreContract(
  'S3ObjectStore, virtual-host style, below a prefix',
  underTest({ pathStyle: false, prefix: 'media/vireo' }),
);

/** GET over HTTP as a browser would, resolving *.localhost to loopback as browsers do. */
function fetchUrl(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { lookup: lookupLocalhost }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('S3ObjectStore', () => {
  let scratch: string;
  before(async () => {
    scratch = await tempDir('vireo-s3-files-');
  });
  after(() => fs.rm(scratch, { recursive: true, force: true }));

  for (const pathStyle of [true, false]) {
    it(`presigns a GET URL the server answers, ${pathStyle ? 'path-style' : 'virtual-host style'}`, async () => {
      const store = await freshStore({ pathStyle, prefix: 'p' });
      const bytes = randomBytes(3000);
      await store.put('videos/v/1/720p/seg_1.m4s', bytes);
      const url = await store.presignGet('videos/v/1/720p/seg_1.m4s', 300);
      const parsed = new URL(url);
      if (pathStyle) assert.match(parsed.pathname, /^\/b[0-9a-f]+\/p\/videos\/v\/1\/720p\/seg_1\.m4s$/);
      else assert.match(parsed.hostname, /^b[0-9a-f]+\.s3\.localhost$/);
      const answer = await fetchUrl(url);
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'video/iso.segment');
      assert.deepEqual(answer.body, bytes);
      // Signed at the start of a 300-second window and valid for two: the same URL for the whole
      // window (caches keep the bytes), still valid 300 seconds after the last time it is handed out.
      const signedAt = (u: string) => new URL(u).searchParams.get('X-Amz-Date')!;
      const when = signedAt(url).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z');
      assert.equal((Date.parse(when) / 1000) % 300, 0, when);
      assert.equal(parsed.searchParams.get('X-Amz-Expires'), '600');
      const again = await store.presignGet('videos/v/1/720p/seg_1.m4s', 300);
      if (signedAt(again) === signedAt(url)) assert.equal(again, url);
      // The signature covers the key.
      const forged = await fetchUrl(url.replace('seg_1.m4s', 'seg_2.m4s'));
      assert.equal(forged.status, 403);
      store.destroy();
    });
  }

  it('uploads a large file in parts, streaming it', async () => {
    const store = await freshStore({ pathStyle: true });
    const sent: string[] = [];
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize' },
    );
    const file = path.join(scratch, 'source.mp4');
    const bytes = randomBytes(11 * 1024 * 1024 + 17);
    await fs.writeFile(file, bytes);
    await store.putFile('sources/v/original', file, { move: true });
    await assert.rejects(fs.stat(file), { code: 'ENOENT' }, 'moved: the local file is gone');
    assert.equal(sent.filter((c) => c === 'UploadPartCommand').length, 3, sent.join());
    assert.ok(sent.includes('CompleteMultipartUploadCommand'));
    const found = await store.get('sources/v/original');
    assert.ok(found);
    assert.equal(found.object.size, bytes.length);
    assert.deepEqual(await readAll(found.body), bytes);
    store.destroy();
  });

  it('takes many small writes at once, as an encode produces segments', async () => {
    const store = await freshStore({ pathStyle: true });
    const segments = Array.from({ length: 120 }, (_, i) => ({
      key: `videos/v/1/${i % 3 === 0 ? '240p' : '360p'}/seg_${i}.m4s`,
      bytes: randomBytes(2000 + i),
    }));
    await Promise.all(
      segments.map(async ({ key, bytes }, i) => {
        if (i % 2) return store.put(key, bytes);
        const file = path.join(scratch, `seg_${i}.m4s`);
        await fs.writeFile(file, bytes);
        return store.putFile(key, file, { move: true });
      }),
    );
    const listed = await store.list('videos/v/1/');
    assert.deepEqual(
      listed,
      segments
        .map(({ key, bytes }) => ({ key, size: bytes.length }))
        .sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
    await Promise.all(
      segments.map(async ({ key, bytes }) =>
        assert.deepEqual(await readAll((await store.get(key))!.body), bytes),
      ),
    );
    store.destroy();
  });

  it('lists and deletes past one page of 1000 keys', async () => {
    const store = await freshStore({ pathStyle: true });
    const keys = Array.from({ length: 1010 }, (_, i) => `v/1/thumbs/t${String(i).padStart(4, '0')}.jpg`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, 'x')));
    }
    await store.put('v/2/keep.jpg', 'x');
    const listed = await store.list('v/1/');
    assert.equal(listed.length, 1010);
    assert.deepEqual(
      listed.map((o) => o.key),
      keys,
    );
    assert.equal(await store.deletePrefix('v/1/'), 1010);
    assert.deepEqual(await store.list('v/'), [{ key: 'v/2/keep.jpg', size: 1 }]);
    store.destroy();
  });

  it('throws RangeError for a range past the end, as the folder driver does', async () => {
    const store = await freshStore({ pathStyle: true });
    await store.put('r/seg.m4s', 'ten bytes!');
    await assert.rejects(store.get('r/seg.m4s', { start: 10, end: 20 }), RangeError);
    await assert.rejects(store.get('r/seg.m4s', { start: 5, end: 2 }), RangeError);
    await store.put('r/empty.m4s', '');
    await assert.rejects(store.get('r/empty.m4s', { start: 0, end: 0 }), RangeError);
    store.destroy();
  });

  it('throws for a bucket that does not exist, instead of answering "no object"', async () => {
    const store = new S3ObjectStore({
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: 'no-such-bucket',
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      forcePathStyle: true,
    });
    await assert.rejects(store.get('a/b.m4s'), { name: 'NoSuchBucket' });
    await assert.rejects(store.put('a/b.m4s', 'x'), { name: 'NoSuchBucket' });
    store.destroy();
  });

  it('is refused with wrong credentials', async () => {
    const store = new S3ObjectStore({
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: s3.bucket,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' },
      forcePathStyle: true,
    });
    // A HEAD answer has no body to name the error: its status tells.
    await assert.rejects(store.stat('a/b.m4s'), (err: { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.$metadata?.httpStatusCode, 403);
      return true;
    });
    await assert.rejects(store.put('a/b.m4s', 'x'), { name: 'SignatureDoesNotMatch' });
    store.destroy();
  });
});

describe('sendObject with redirects', () => {
  /** A server answering GET and HEAD /<key> from a store, asking for redirects. */
  async function serve(store: ObjectStore) {
    const app = Fastify();
    app.route({
      method: ['GET', 'HEAD'],
      url: '/*',
      handler: (request, reply) =>
        sendObject(request, reply, store, (request.params as { '*': string })['*'], {
          cacheControl: 'private, max-age=31536000, immutable',
          redirectTtlSeconds: 60,
        }),
    });
    return app;
  }

  it('answers a GET with a 302 to the presigned URL, and serves HEAD itself', async () => {
    const store = await freshStore({ pathStyle: true });
    await store.put('v/1/poster.jpg', 'jpeg bytes');
    const app = await serve(store);
    const get = await app.inject({ method: 'GET', url: '/v/1/poster.jpg' });
    assert.equal(get.statusCode, 302);
    assert.equal(get.headers['cache-control'], 'private, max-age=30');
    assert.match(
      String(get.headers.location),
      new RegExp(`^${s3.endpoint}/${store.bucket}/v/1/poster\\.jpg\\?`),
    );
    assert.equal((await fetchUrl(String(get.headers.location))).body.toString(), 'jpeg bytes');
    const head = await app.inject({ method: 'HEAD', url: '/v/1/poster.jpg' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], '10');
    await app.close();
    store.destroy();
  });

  it('serves the bytes itself from a store without URLs (the folder driver)', async () => {
    const dir = await tempDir('vireo-fs-redirect-');
    try {
      const store = new FsObjectStore(dir);
      await store.put('v/1/poster.jpg', 'jpeg bytes');
      const app = await serve(store);
      const get = await app.inject({ method: 'GET', url: '/v/1/poster.jpg' });
      assert.equal(get.statusCode, 200);
      assert.equal(get.body, 'jpeg bytes');
      assert.equal(get.headers['cache-control'], 'private, max-age=31536000, immutable');
      await app.close();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
