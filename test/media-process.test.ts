// A media process dies with the process that started it, however that one ends: here it is SIGKILLed,
// with util-linux's setpriv on PATH and without it (the sh watchdog).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './helpers/media.ts';
import { groupMembers } from './helpers/worker-process.ts';

const root = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('media processes', () => {
  const groups: number[] = [];
  after(() => {
    for (const g of groups) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  });

  const ffmpeg = execFileSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).trim();
  // Real time from a generated source: runs until stopped, at little CPU.
  const endless = [
    '-hide_banner',
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=64x64:rate=5',
    '-f',
    'null',
    '-',
  ];

  for (const [tether, withoutSetpriv] of [
    ['setpriv', false],
    ['watchdog', true],
  ] as const) {
    it(`dies with a SIGKILLed parent (${tether})`, async (ctx) => {
      // A PATH with nothing on it leaves setpriv out; the tools are named by absolute path.
      const env = {
        ...process.env,
        PATH: withoutSetpriv ? await tempDir('vireo-empty-path-') : process.env.PATH,
      };
      const parent = spawn(
        process.execPath,
        ['--import', 'tsx', path.join('test', 'fixtures', 'media-process-child.ts'), ffmpeg, ...endless],
        { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const pgid = parent.pid!;
      groups.push(pgid);
      const exited = new Promise((r) => parent.on('exit', r));
      let out = '';
      parent.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
      });
      for (let i = 0; !out.includes('\n'); i++) {
        assert.ok(i < 600, `the parent did not start: ${out}`);
        await sleep(50);
      }
      assert.equal(JSON.parse(out).tether, tether);
      for (let i = 0; !(await groupMembers(pgid)).some((p) => p.comm === 'ffmpeg'); i++) {
        assert.ok(i < 200, 'ffmpeg did not start');
        await sleep(50);
      }

      process.kill(pgid, 'SIGKILL'); // the parent alone, not its process group
      await exited;
      const killedAt = Date.now();
      for (;;) {
        const left = await groupMembers(pgid);
        if (left.length === 0) break;
        assert.ok(Date.now() - killedAt < 2000, `left running: ${JSON.stringify(left)}`);
        await sleep(20);
      }
      ctx.diagnostic(`everything gone ${Date.now() - killedAt} ms after the parent`);
      if (withoutSetpriv) await fs.rm(env.PATH!, { recursive: true, force: true });
    });
  }
});
