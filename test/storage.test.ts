import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRange } from '../src/platform/storage/byte-ranges.ts';
import { contentTypeOf } from '../src/platform/storage/content-types.ts';
import { FsObjectStore } from '../src/platform/storage/fs-store.ts';
import { objectStoreContract } from './helpers/object-store-contract.ts';

async function tempStore() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-store-'));
  // The root is created on the first write, as on a fresh install.
  const store = new FsObjectStore(path.join(dir, 'storage'));
  return { store, dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

objectStoreContract('FsObjectStore', tempStore);

/** Every file and folder below a folder, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.sort();
}

describe('FsObjectStore on disk', () => {
  let t: Awaited<ReturnType<typeof tempStore>>;
  before(async () => {
    t = await tempStore();
  });
  after(() => t.cleanup());

  it('keeps objects as plain files under the root', async () => {
    await t.store.put('videos/x/1/master.m3u8', '#EXTM3U\n');
    assert.equal(await fs.readFile(path.join(t.store.root, 'videos/x/1/master.m3u8'), 'utf8'), '#EXTM3U\n');
  });

  it('moves a file on the same disk by renaming it', async () => {
    const file = path.join(t.dir, 'seg.m4s');
    await fs.writeFile(file, 'segment');
    const inode = (await fs.stat(file)).ino;
    await t.store.putFile('moved/seg.m4s', file, { move: true });
    await assert.rejects(fs.stat(file), { code: 'ENOENT' });
    assert.equal((await fs.stat(path.join(t.store.root, 'moved/seg.m4s'))).ino, inode, 'renamed, not copied');
  });

  it('copies and removes the source when a move crosses file systems', async (ctx) => {
    const shm = await fs.mkdtemp('/dev/shm/vireo-store-').catch(() => null);
    if (!shm || (await fs.stat(shm)).dev === (await fs.stat(t.dir)).dev) {
      ctx.skip('no second file system to move from');
      return;
    }
    try {
      const file = path.join(shm, 'seg.m4s');
      await fs.writeFile(file, 'from another disk');
      await t.store.putFile('cross/seg.m4s', file, { move: true });
      assert.equal(await fs.readFile(path.join(t.store.root, 'cross/seg.m4s'), 'utf8'), 'from another disk');
      await assert.rejects(fs.stat(file), { code: 'ENOENT' });
    } finally {
      await fs.rm(shm, { recursive: true, force: true });
    }
  });

  it('removes folders left empty by delete and deletePrefix', async () => {
    await t.store.put('gone/1/720p/a.m4s', 'a');
    await t.store.put('gone/1/720p/b.m4s', 'b');
    await t.store.put('gone/2/master.m3u8', 'm');
    await t.store.put('stays/x.json', '{}');
    await fs.mkdir(path.join(t.store.root, 'gone/3/empty'), { recursive: true });
    await t.store.delete('gone/2/master.m3u8');
    assert.ok(!(await tree(t.store.root)).includes('gone/2'), 'delete prunes its folder');
    assert.equal(await t.store.deletePrefix('gone/'), 2);
    const left = await tree(t.store.root);
    assert.ok(!left.some((p) => p.startsWith('gone')), `no gone/ folders: ${left.join(', ')}`);
    assert.ok(left.includes('stays/x.json'));
    assert.ok(await fs.stat(t.store.root), 'the root stays');
  });

  it('leaves no partial file when a write fails', async () => {
    await assert.rejects(t.store.putFile('fail/a.m4s', path.join(t.dir, 'no-such-file')));
    const left = await tree(path.join(t.store.root, 'fail'));
    assert.deepEqual(left, []);
  });

  it('answers empty lists for a store that has no folder yet', async () => {
    const empty = new FsObjectStore(path.join(t.dir, 'never-created'));
    assert.deepEqual(await empty.list(''), []);
    assert.equal(await empty.deletePrefix('videos/'), 0);
    assert.equal(await empty.stat('a.json'), null);
  });
});

describe('content types', () => {
  it('ignores case and falls back to octet-stream', () => {
    assert.equal(contentTypeOf('a/B.M3U8'), 'application/vnd.apple.mpegurl');
    assert.equal(contentTypeOf('a.m3u8/file'), 'application/octet-stream');
    assert.equal(contentTypeOf('.m4s'), 'application/octet-stream', 'a dot file has no extension');
  });
});

describe('byte ranges', () => {
  const size = 1000;
  const cases: Array<[string | undefined, ReturnType<typeof parseRange>]> = [
    [undefined, null],
    ['bytes=0-0', { start: 0, end: 0 }],
    ['bytes=0-499', { start: 0, end: 499 }],
    ['bytes=500-', { start: 500, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
    ['bytes=990-5000', { start: 990, end: 999 }],
    ['BYTES = 1 - 2', { start: 1, end: 2 }],
    ['bytes=1000-', 'unsatisfiable'],
    ['bytes=1000-1001', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=99999999999999999999-', 'unsatisfiable'],
    ['bytes=5-2', null],
    ['bytes=0-1,5-6', null],
    ['items=0-1', null],
    ['bytes=-', null],
    ['bytes=a-b', null],
  ];
  for (const [header, expected] of cases) {
    it(`${header ?? '(none)'} of ${size} bytes`, () => assert.deepEqual(parseRange(header, size), expected));
  }
  it('nothing of an empty object is satisfiable', () => {
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=-1', 0), 'unsatisfiable');
  });
});
