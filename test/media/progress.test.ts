import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressParser, percentOf } from '../../src/platform/media/progress.ts';

describe('ffmpeg progress parsing', () => {
  it('parses blocks split across chunks', () => {
    const p = new ProgressParser();
    assert.deepEqual(p.push('frame=30\nout_time_us=1000000\nspe'), []);
    const [u] = p.push('ed=2.5x\nprogress=continue\n');
    assert.deepEqual(u, { outTimeS: 1, frame: 30, speed: 2.5, done: false });
    assert.equal(percentOf(u!, 4), 25);
    const [end] = p.push('out_time_us=4000000\nprogress=end\n');
    assert.equal(percentOf(end!, 4), 100);
  });

  it('never reports 100 before the end', () => {
    assert.equal(percentOf({ outTimeS: 5, frame: 0, speed: null, done: false }, 4), 99);
  });
});
