import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planLadder } from '../../src/modules/transcoding/ladder.ts';
import { mediaInfo } from '../helpers/media-info.ts';

const source = mediaInfo;

describe('planLadder', () => {
  it('never upscales: 1080p gets 240 to 1080', () => {
    const plan = planLadder(source());
    assert.deepEqual(
      plan.renditions.map((r) => r.name),
      ['240p', '360p', '480p', '720p', '1080p'],
    );
    assert.deepEqual(
      plan.renditions.map((r) => `${r.width}x${r.height}`),
      ['426x240', '640x360', '854x480', '1280x720', '1920x1080'],
    );
  });

  it('gives a tiny source one rendition at its own even size', () => {
    const plan = planLadder(source({ width: 161, height: 121 }));
    assert.equal(plan.renditions.length, 1);
    assert.equal(plan.renditions[0]!.width % 2, 0);
    assert.equal(plan.renditions[0]!.height % 2, 0);
    assert.ok(plan.renditions[0]!.height <= 122);
  });

  it('applies rotation: a 90° phone clip comes out portrait', () => {
    const plan = planLadder(source({ rotation: 90 }));
    const top = plan.renditions.at(-1)!;
    assert.equal(top.name, '1080p');
    assert.equal(top.width, 1080);
    assert.equal(top.height, 1920);
  });

  it('keeps dimensions even for odd aspect ratios', () => {
    for (const r of planLadder(source({ width: 1000, height: 718 })).renditions) {
      assert.equal(r.width % 2, 0, r.name);
      assert.equal(r.height % 2, 0, r.name);
    }
  });

  it('keeps 60 fps on large rungs and halves it at 480p and below', () => {
    const plan = planLadder(source({ fps: 59.94 }));
    assert.equal(plan.renditions.find((r) => r.name === '720p')!.fps, 59.94);
    assert.equal(plan.renditions.find((r) => r.name === '480p')!.fps, 29.97);
  });

  it('caps the frame rate at 60', () => {
    const plan = planLadder(source({ fps: 120 }));
    assert.equal(plan.renditions.at(-1)!.fps, 60);
  });

  it('caps bitrate per rung with a buffer of twice the maxrate', () => {
    for (const r of planLadder(source()).renditions) assert.equal(r.bufsizeKbps, r.maxrateKbps * 2);
    const rates = planLadder(source()).renditions.map((r) => r.maxrateKbps);
    assert.deepEqual(
      rates,
      [...rates].sort((a, b) => a - b),
    );
  });

  it('plans no audio group for a silent source', () => {
    assert.equal(planLadder(source({ audio: null })).audio, null);
    assert.equal(planLadder(source()).audio?.channels, 2);
  });

  it('uses a configured rung list', () => {
    const plan = planLadder(source(), { rungs: [360, 720], segmentSeconds: 2, crf: 21 });
    assert.deepEqual(
      plan.renditions.map((r) => r.name),
      ['360p', '720p'],
    );
    assert.equal(plan.segmentSeconds, 2);
  });
});
