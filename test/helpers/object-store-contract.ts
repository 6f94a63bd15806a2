// What every ObjectStore driver promises. A driver's test file calls objectStoreContract with a factory
// that answers a fresh, empty store.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ObjectKeyError, ObjectNotFoundError } from '../../src/platform/storage/errors.ts';
import type { ObjectStore } from '../../src/platform/storage/object-store.ts';

export interface StoreUnderTest {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function fetchBytes(store: ObjectStore, key: string, range?: { start: number; end: number }) {
  const found = await store.get(key, range);
  assert.ok(found, `${key} exists`);
  return { object: found.object, bytes: await readAll(found.body) };
}

/** 0..255 repeated: each byte tells its own offset (mod 256), so a wrong range shows. */
const counting = (length: number) => Buffer.from(Array.from({ length }, (_, i) => i % 256));

const BAD_KEYS = ['', '/abs/key.m4s', '../up.m4s', 'a/../b.m4s', 'a/./b.m4s', 'a\\b.m4s', 'a//b.m4s', 'a/'];

export function objectStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let cleanup: () => Promise<void>;
    let scratch: string;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-store-files-'));
    });
    afterEach(async () => {
      await cleanup();
      await fs.rm(scratch, { recursive: true, force: true });
    });

    it('stores a buffer or a string and describes it', async () => {
      const before = Date.now();
      await store.put('videos/v1/1/master.m3u8', '#EXTM3U\n');
      await store.put('videos/v1/1/720p/seg-1.m4s', counting(1000));
      const playlist = await store.stat('videos/v1/1/master.m3u8');
      assert.ok(playlist);
      assert.equal(playlist.key, 'videos/v1/1/master.m3u8');
      assert.equal(playlist.size, 8);
      assert.equal(playlist.contentType, 'application/vnd.apple.mpegurl');
      assert.match(playlist.etag, /^"[^"]+"$/, 'a strong, quoted etag');
      assert.ok(playlist.lastModified instanceof Date);
      assert.ok(Math.abs(playlist.lastModified.getTime() - before) < 60_000, 'lastModified is now');
      const segment = await fetchBytes(store, 'videos/v1/1/720p/seg-1.m4s');
      assert.deepEqual(segment.bytes, counting(1000));
      assert.equal(segment.object.size, 1000);
      assert.equal(segment.object.contentType, 'video/iso.segment');
      assert.equal((await fetchBytes(store, 'videos/v1/1/master.m3u8')).bytes.toString(), '#EXTM3U\n');
    });

    it('names content types from the extension', async () => {
      const expected: Record<string, string> = {
        'm/a.m3u8': 'application/vnd.apple.mpegurl',
        'm/a.mpd': 'application/dash+xml',
        'm/a.m4s': 'video/iso.segment',
        'm/a.mp4': 'video/mp4',
        'm/a.m4a': 'audio/mp4',
        'm/a.jpg': 'image/jpeg',
        'm/a.webp': 'image/webp',
        'm/a.png': 'image/png',
        'm/a.vtt': 'text/vtt',
        'm/a.json': 'application/json',
        'm/a.bin': 'application/octet-stream',
        'm/noextension': 'application/octet-stream',
      };
      for (const key of Object.keys(expected)) await store.put(key, 'x');
      for (const [key, type] of Object.entries(expected)) {
        assert.equal((await store.stat(key))?.contentType, type, key);
      }
    });

    it('stores an empty object', async () => {
      await store.put('empty.json', Buffer.alloc(0));
      assert.equal((await store.stat('empty.json'))?.size, 0);
      assert.equal((await fetchBytes(store, 'empty.json')).bytes.length, 0);
    });

    it('replaces an object and gives it a new etag', async () => {
      await store.put('p/index.m3u8', 'one');
      const first = await store.stat('p/index.m3u8');
      assert.equal((await store.stat('p/index.m3u8'))?.etag, first?.etag, 'stable while unchanged');
      await store.put('p/index.m3u8', 'second version');
      const second = await store.stat('p/index.m3u8');
      assert.notEqual(second?.etag, first?.etag);
      assert.equal(second?.size, 14);
      assert.equal((await fetchBytes(store, 'p/index.m3u8')).bytes.toString(), 'second version');
    });

    it('answers null for a missing object, never throws', async () => {
      assert.equal(await store.stat('nothing/here.m4s'), null);
      assert.equal(await store.get('nothing/here.m4s'), null);
      assert.equal(await store.get('nothing/here.m4s', { start: 0, end: 1 }), null);
      await store.put('file.m4s', 'x');
      // A key below an object (a folder on disk would be a file here)
      assert.equal(await store.stat('file.m4s/below.m4s'), null);
      assert.equal(await store.get('file.m4s/below.m4s'), null);
      // A folder-like prefix is not an object
      await store.put('dir/inner.m4s', 'x');
      assert.equal(await store.stat('dir'), null);
    });

    it('reads byte ranges: first byte, start, middle, last byte, clamped end', async () => {
      await store.put('r/seg.m4s', counting(1000));
      const cases: Array<[number, number, number, number]> = [
        // start, end asked, end answered, length
        [0, 0, 0, 1],
        [0, 99, 99, 100],
        [500, 509, 509, 10],
        [999, 999, 999, 1],
        [990, 5000, 999, 10],
      ];
      for (const [start, end, last, length] of cases) {
        const { object, bytes } = await fetchBytes(store, 'r/seg.m4s', { start, end });
        assert.equal(object.size, 1000, 'object describes the whole object');
        assert.equal(bytes.length, length, `${start}-${end}`);
        assert.deepEqual(bytes, counting(1000).subarray(start, last + 1), `${start}-${end}`);
      }
    });

    it('stores a local file by copy, keeping the source', async () => {
      const file = path.join(scratch, 'poster.jpg');
      await fs.writeFile(file, counting(300));
      await store.putFile('v/1/poster.jpg', file);
      assert.deepEqual(await fs.readFile(file), counting(300), 'source untouched');
      const stored = await fetchBytes(store, 'v/1/poster.jpg');
      assert.deepEqual(stored.bytes, counting(300));
      assert.equal(stored.object.contentType, 'image/jpeg');
      await fs.writeFile(file, 'changed later');
      assert.deepEqual(
        (await fetchBytes(store, 'v/1/poster.jpg')).bytes,
        counting(300),
        'a copy, not a link',
      );
    });

    it('stores a local file with move', async () => {
      const file = path.join(scratch, 'seg.m4s');
      await fs.writeFile(file, counting(4096));
      await store.putFile('v/1/720p/seg-1.m4s', file, { move: true });
      assert.deepEqual((await fetchBytes(store, 'v/1/720p/seg-1.m4s')).bytes, counting(4096));
      // replacing through a move works the same
      await fs.writeFile(file, 'new');
      await store.putFile('v/1/720p/seg-1.m4s', file, { move: true });
      assert.equal((await fetchBytes(store, 'v/1/720p/seg-1.m4s')).bytes.toString(), 'new');
    });

    it('downloads to a local file, which later writes to the store leave alone', async () => {
      await store.put('src/a.mp4', counting(2048));
      const target = path.join(scratch, 'deep', 'down', 'a.mp4');
      await store.download('src/a.mp4', target);
      assert.deepEqual(await fs.readFile(target), counting(2048));
      await store.put('src/a.mp4', 'replaced');
      assert.deepEqual(await fs.readFile(target), counting(2048));
      await store.download('src/a.mp4', target);
      assert.equal(await fs.readFile(target, 'utf8'), 'replaced', 'overwrites the target');
      await assert.rejects(store.download('src/missing.mp4', target), ObjectNotFoundError);
    });

    it('lists objects under a prefix, recursively, sorted by key', async () => {
      const keys = [
        'videos/b/1/master.m3u8',
        'videos/a/2/720p/seg-10.m4s',
        'videos/a/2/720p/seg-2.m4s',
        'videos/a/2/360p/seg-1.m4s',
        'videos/a/2/master.m3u8',
        'videos/a/2/thumbs/sprite.jpg',
        'videos/ab/1/master.m3u8',
        'other/x.json',
      ];
      for (const [i, key] of keys.entries()) await store.put(key, counting(i + 1));
      const under = (prefix: string) => store.list(prefix).then((l) => l.map((o) => o.key));
      assert.deepEqual(await under('videos/a/'), [
        'videos/a/2/360p/seg-1.m4s',
        'videos/a/2/720p/seg-10.m4s',
        'videos/a/2/720p/seg-2.m4s',
        'videos/a/2/master.m3u8',
        'videos/a/2/thumbs/sprite.jpg',
      ]);
      assert.deepEqual(await under('videos/a'), [...(await under('videos/a/')), 'videos/ab/1/master.m3u8']);
      assert.deepEqual(await under('videos/a/2/720p/seg-1'), ['videos/a/2/720p/seg-10.m4s']);
      assert.deepEqual(await under(''), [...keys].sort());
      assert.deepEqual(await under('nothing/'), []);
      const sizes = await store.list('videos/b/');
      assert.deepEqual(sizes, [{ key: 'videos/b/1/master.m3u8', size: 1 }]);
    });

    it('deletes one object; a missing one is fine', async () => {
      await store.put('d/1/a.m4s', 'a');
      await store.put('d/1/b.m4s', 'b');
      await store.delete('d/1/a.m4s');
      assert.equal(await store.stat('d/1/a.m4s'), null);
      assert.ok(await store.stat('d/1/b.m4s'));
      await store.delete('d/1/a.m4s');
      await store.delete('never/was.m4s');
      assert.deepEqual(
        (await store.list('d/')).map((o) => o.key),
        ['d/1/b.m4s'],
      );
    });

    it('deletes a prefix and answers the count', async () => {
      for (const key of [
        'videos/a/1/m.m3u8',
        'videos/a/1/720p/s1.m4s',
        'videos/a/2/m.m3u8',
        'videos/ab/1/m.m3u8',
      ]) {
        await store.put(key, 'x');
      }
      assert.equal(await store.deletePrefix('videos/a/1/'), 2);
      assert.deepEqual(
        (await store.list('videos/')).map((o) => o.key),
        ['videos/a/2/m.m3u8', 'videos/ab/1/m.m3u8'],
      );
      assert.equal(await store.deletePrefix('videos/a/1/'), 0);
      assert.equal(await store.deletePrefix('videos/a/'), 1);
      assert.deepEqual(
        (await store.list('')).map((o) => o.key),
        ['videos/ab/1/m.m3u8'],
      );
      // The folder is gone, and writing into it again works.
      await store.put('videos/a/3/m.m3u8', 'again');
      assert.equal((await store.stat('videos/a/3/m.m3u8'))?.size, 5);
    });

    it('refuses keys that could escape the store or are not portable', async () => {
      const file = path.join(scratch, 'f.m4s');
      await fs.writeFile(file, 'x');
      for (const key of BAD_KEYS) {
        await assert.rejects(store.put(key, 'x'), ObjectKeyError, `put ${JSON.stringify(key)}`);
        await assert.rejects(store.putFile(key, file), ObjectKeyError, `putFile ${key}`);
        await assert.rejects(store.stat(key), ObjectKeyError, `stat ${key}`);
        await assert.rejects(store.get(key), ObjectKeyError, `get ${key}`);
        await assert.rejects(
          store.download(key, path.join(scratch, 'out')),
          ObjectKeyError,
          `download ${key}`,
        );
        await assert.rejects(store.delete(key), ObjectKeyError, `delete ${key}`);
      }
      for (const prefix of ['/abs/', '../', 'a/../', 'a\\b/', 'a//']) {
        await assert.rejects(store.list(prefix), ObjectKeyError, `list ${prefix}`);
        await assert.rejects(store.deletePrefix(prefix), ObjectKeyError, `deletePrefix ${prefix}`);
      }
      // Emptying the whole store through one bad variable is refused.
      await store.put('keep/me.json', '{}');
      await assert.rejects(store.deletePrefix(''), ObjectKeyError);
      assert.ok(await store.stat('keep/me.json'));
    });

    it('leaves one whole object when the same key is written concurrently', async () => {
      // Large enough that a file system writes it in several chunks.
      const size = 2 * 1024 * 1024;
      const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(size, i + 1));
      let writing = true;
      const writes = (async () => {
        for (let round = 0; round < 3; round++) {
          await Promise.all(bodies.map((body) => store.put('race/seg.m4s', body)));
        }
      })().finally(() => {
        writing = false;
      });
      // Readers during the writes see nothing or one whole version, never a mix or a short file.
      const reader = async () => {
        while (writing) {
          const found = await store.get('race/seg.m4s');
          if (!found) {
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          const bytes = await readAll(found.body);
          assert.equal(bytes.length, size, 'a whole object');
          assert.ok(
            bytes.every((b) => b === bytes[0]),
            'bytes of one write only',
          );
        }
      };
      const sizer = async () => {
        while (writing) {
          const seen = (await store.stat('race/seg.m4s'))?.size;
          assert.ok(seen === undefined || seen === size, `never a short file (${seen})`);
        }
      };
      const reads = Promise.all([reader(), reader(), sizer()]);
      await Promise.all([writes, reads]);
      const { bytes } = await fetchBytes(store, 'race/seg.m4s');
      assert.equal(bytes.length, size);
      assert.ok(
        bytes.every((b) => b === bytes[0]),
        'bytes of one write only',
      );
      assert.deepEqual(
        (await store.list('race/')).map((o) => o.key),
        ['race/seg.m4s'],
        'no partial files are listed',
      );
    });
  });
}
