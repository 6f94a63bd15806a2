import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEncodeArgs } from '../../src/modules/transcoding/encode-command.ts';
import { planLadder } from '../../src/modules/transcoding/ladder.ts';
import { mediaInfo } from '../helpers/media-info.ts';

const info = mediaInfo({
  width: 1280,
  height: 720,
  videoCodec: 'hevc',
  pixelFormat: 'yuv444p10le',
  bitDepth: 10,
  bitRate: null,
  audio: { codec: 'opus', channels: 6, sampleRate: 48_000 },
});

const opts = { input: '/in.mkv', outDir: '/out', playlistType: 'event' as const };

describe('buildEncodeArgs', () => {
  it('decodes once and splits into every rung', () => {
    const plan = planLadder(info);
    const args = buildEncodeArgs(info, plan, opts);
    assert.equal(args.filter((a) => a === '-i').length, 1);
    const filter = args[args.indexOf('-filter_complex') + 1]!;
    assert.match(filter, new RegExp(`split=${plan.renditions.length}`));
    assert.equal(args.filter((a) => a.endsWith('index.m3u8')).length, plan.renditions.length + 1);
  });

  it('outputs 8-bit 4:2:0 H.264 whatever the source', () => {
    const args = buildEncodeArgs(info, planLadder(info), opts);
    assert.match(args[args.indexOf('-filter_complex') + 1]!, /format=yuv420p/);
    assert.ok(args.every((a, i) => a !== '-c:v' || args[i + 1] === 'libx264'));
  });

  it('fixes the GOP and forces keyframes on segment boundaries, the first segment half as long', () => {
    const args = buildEncodeArgs(info, planLadder(info), opts);
    assert.equal(args[args.indexOf('-g') + 1], '120');
    assert.equal(args[args.indexOf('-sc_threshold') + 1], '0');
    assert.equal(
      args[args.indexOf('-force_key_frames') + 1],
      'expr:if(eq(n_forced,0),1,gte(t,2+(n_forced-1)*4))',
    );
    assert.ok(args.every((a, i) => a !== '-hls_time' || args[i + 1] === '2'));
  });

  it('keeps segments of a second or less whole', () => {
    const plan = { ...planLadder(info), segmentSeconds: 1 };
    const args = buildEncodeArgs(info, plan, opts);
    assert.equal(args[args.indexOf('-force_key_frames') + 1], 'expr:gte(t,n_forced*1)');
    assert.equal(args[args.indexOf('-hls_time') + 1], '1');
  });

  it('writes fMP4 HLS segments and stereo AAC', () => {
    const args = buildEncodeArgs(info, planLadder(info), opts);
    assert.equal(args[args.indexOf('-hls_segment_type') + 1], 'fmp4');
    assert.equal(args[args.indexOf('-hls_playlist_type') + 1], 'event');
    assert.equal(args[args.indexOf('-ac') + 1], '2');
    assert.equal(args[args.indexOf('-c:a') + 1], 'aac');
  });

  it('maps no audio for a silent source and deinterlaces interlaced input', () => {
    const silent = { ...info, audio: null, interlaced: true };
    const args = buildEncodeArgs(silent, planLadder(silent), opts);
    assert.ok(!args.includes('0:a:0'));
    assert.match(args[args.indexOf('-filter_complex') + 1]!, /^\[0:v:0\]yadif/);
  });
});
