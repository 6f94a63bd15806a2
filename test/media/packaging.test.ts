import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dashManifest, frameRate } from '../../src/modules/transcoding/dash-manifest.ts';
import { masterPlaylist } from '../../src/modules/transcoding/master-playlist.ts';
import { measureRendition, parseMediaPlaylist, peakBitRate } from '../../src/modules/transcoding/segments.ts';
import { tempDir } from '../helpers/media.ts';

const growing = [
  '#EXTM3U',
  '#EXT-X-VERSION:7',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-MEDIA-SEQUENCE:0',
  '#EXT-X-PLAYLIST-TYPE:EVENT',
  '#EXT-X-MAP:URI="init.mp4"',
  '#EXTINF:2.000000,',
  'seg_00000.m4s',
  '#EXTINF:2.000000,',
  'seg_00001.m4s',
  '#EXTINF:1.500000,',
  'seg_00002.m4s',
  '#EXTINF:2.000000,',
  'seg_000',
].join('\n');

describe('parseMediaPlaylist', () => {
  it('reads the map, the target duration and the segments of a playlist still being written', () => {
    const p = parseMediaPlaylist(growing);
    assert.equal(p.initUri, 'init.mp4');
    assert.equal(p.targetDurationS, 2);
    assert.equal(p.complete, false);
    assert.deepEqual(
      p.entries.map((e) => e.uri),
      ['seg_00000.m4s', 'seg_00001.m4s', 'seg_00002.m4s', 'seg_000'],
    );
    assert.equal(parseMediaPlaylist(`${growing}m4s\n#EXT-X-ENDLIST\n`).complete, true);
  });
});

describe('peakBitRate (RFC 8216 §4.1)', () => {
  it('is the densest window of 0.5 to 1.5 target durations, so a tiny tail cannot dominate', () => {
    const segs = [
      { durationS: 2, bytes: 50_000 },
      { durationS: 2, bytes: 60_000 },
      { durationS: 0.1, bytes: 20_000 },
    ];
    // 60 kB in 2 s alone is 240 kbit/s; with the tail 80 kB in 2.1 s is ~305 kbit/s.
    assert.equal(peakBitRate(segs, 2), Math.ceil((80_000 * 8) / 2.1));
    // The 0.1 s tail alone would claim 1.6 Mbit/s.
    assert.ok(peakBitRate(segs, 2) < 1_000_000);
  });

  it('falls back to the whole run when it is shorter than half a target duration', () => {
    assert.equal(peakBitRate([{ durationS: 0.5, bytes: 10_000 }], 2), 160_000);
    assert.equal(peakBitRate([], 2), 0);
  });
});

describe('measureRendition', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
    await fs.writeFile(path.join(dir, 'index.m3u8'), growing);
    await fs.writeFile(path.join(dir, 'init.mp4'), Buffer.alloc(800));
    for (const [name, size] of [
      ['seg_00000.m4s', 40_000],
      ['seg_00001.m4s', 50_000],
      ['seg_00002.m4s', 30_000],
    ] as const) {
      await fs.writeFile(path.join(dir, name), Buffer.alloc(size));
    }
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('sizes the listed segments and skips a last line not yet on disk', async () => {
    const m = await measureRendition(dir);
    assert.equal(m.initUri, 'init.mp4');
    assert.equal(m.complete, false);
    assert.deepEqual(
      m.segments.map((s) => [s.uri, s.bytes]),
      [
        ['seg_00000.m4s', 40_000],
        ['seg_00001.m4s', 50_000],
        ['seg_00002.m4s', 30_000],
      ],
    );
    assert.equal(m.durationS, 5.5);
    // Average over media segments only; the init segment is not counted.
    assert.equal(m.averageBps, Math.ceil((120_000 * 8) / 5.5));
    assert.equal(m.peakBps, 200_000);
  });

  it('refuses a missing segment in the middle of the list', async () => {
    await fs.rm(path.join(dir, 'seg_00001.m4s'));
    await assert.rejects(measureRendition(dir), /seg_00001\.m4s is listed/);
  });
});

const video = (name: string, width: number, height: number, peakBps: number) => ({
  uri: `${name}/index.m3u8`,
  width,
  height,
  fps: 29.97,
  codecs: 'avc1.64001f',
  peakBps,
  averageBps: peakBps * 0.8,
});

describe('masterPlaylist', () => {
  it('announces peak and average rates including audio, ascending, with the audio group', () => {
    const text = masterPlaylist({
      variants: [video('720p', 1280, 720, 2_000_000), video('360p', 640, 360, 500_000)],
      audio: {
        uri: 'audio/index.m3u8',
        codecs: 'mp4a.40.2',
        channels: 2,
        peakBps: 130_000,
        averageBps: 128_000,
      },
    });
    const lines = text.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS']);
    assert.equal(
      lines[3],
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="default",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"',
    );
    assert.equal(
      lines[4],
      '#EXT-X-STREAM-INF:BANDWIDTH=630000,AVERAGE-BANDWIDTH=528000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=29.970,AUDIO="aud"',
    );
    assert.equal(lines[5], '360p/index.m3u8');
    assert.match(lines[6]!, /^#EXT-X-STREAM-INF:BANDWIDTH=2130000,.*RESOLUTION=1280x720/);
    assert.equal(lines[7], '720p/index.m3u8');
  });

  it('has no audio group, attribute or codec for a silent video', () => {
    const text = masterPlaylist({ variants: [video('360p', 640, 360, 500_000)], audio: null });
    assert.doesNotMatch(text, /EXT-X-MEDIA|AUDIO=|mp4a/);
    assert.match(text, /BANDWIDTH=500000,AVERAGE-BANDWIDTH=400000,CODECS="avc1.64001f",/);
  });

  it('refuses a value that would break a quoted-string', () => {
    assert.throws(() =>
      masterPlaylist({ variants: [{ ...video('a', 2, 2, 1), codecs: 'avc1"' }], audio: null }),
    );
  });
});

const segs = (n: number, d: number) =>
  Array.from({ length: n }, (_, i) => ({ uri: `seg_${String(i).padStart(5, '0')}.m4s`, durationS: d }));

const dashInput = () => ({
  video: [
    {
      id: '360p',
      baseUri: '../hls/360p/',
      codecs: 'avc1.64001e',
      bandwidth: 600_000,
      timescale: 15_360,
      initUri: 'init.mp4',
      segments: [...segs(3, 2), { uri: 'seg_00003.m4s', durationS: 0.5 }],
      width: 640,
      height: 360,
      fps: 29.97,
    },
  ],
  audio: {
    id: 'audio',
    baseUri: '../hls/audio/',
    codecs: 'mp4a.40.2',
    bandwidth: 130_000,
    timescale: 48_000,
    initUri: 'init.mp4',
    segments: segs(3, 2.005333),
    channels: 2,
    sampleRate: 48_000,
  },
});

describe('dashManifest', () => {
  it('writes a static live-profile MPD with exact timelines over the HLS segments', () => {
    const xml = dashManifest(dashInput());
    assert.match(xml, /<MPD [^>]*type="static"[^>]*mediaPresentationDuration="PT6\.5S"/);
    assert.match(xml, /profiles="urn:mpeg:dash:profile:isoff-live:2011"/);
    assert.match(xml, /<AdaptationSet [^>]*contentType="video"[^>]*segmentAlignment="true"/);
    assert.match(
      xml,
      /<Representation id="360p" bandwidth="600000" codecs="avc1.64001e" width="640" height="360" frameRate="30000\/1001"/,
    );
    assert.match(
      xml,
      /initialization="..\/hls\/360p\/init.mp4" media="..\/hls\/360p\/seg_\$Number%05d\$.m4s"/,
    );
    assert.match(xml, /<S t="0" d="30720" r="2"\/>\s*<S t="92160" d="7680"\/>/);
    // 94 AAC frames of 1024 samples: the rounded EXTINF comes back as exact sample counts.
    assert.match(xml, /<S t="0" d="96256" r="2"\/>/);
    assert.match(xml, /<AudioChannelConfiguration [^>]*value="2"\/>/);
  });

  it('writes a dynamic MPD without a duration for an encode still running', () => {
    const xml = dashManifest({
      ...dashInput(),
      audio: null,
      dynamic: {
        availabilityStartTime: new Date('2026-11-23T10:00:00Z'),
        publishTime: new Date('2026-11-23T10:00:06Z'),
        minimumUpdatePeriodS: 2,
      },
    });
    assert.match(xml, /type="dynamic"/);
    assert.match(xml, /availabilityStartTime="2026-11-23T10:00:00.000Z"/);
    assert.match(xml, /minimumUpdatePeriod="PT2S"/);
    assert.doesNotMatch(xml, /mediaPresentationDuration|contentType="audio"/);
  });

  it('refuses segments that break the numbering the template relies on', () => {
    const input = dashInput();
    input.video[0]!.segments[1]!.uri = 'seg_00007.m4s';
    assert.throws(() => dashManifest(input), /breaks the numbering/);
  });

  it('writes frame rates as integers or exact ratios', () => {
    assert.equal(frameRate(30), '30');
    assert.equal(frameRate(29.97), '30000/1001');
    assert.equal(frameRate(23.976), '24000/1001');
    assert.equal(frameRate(59.94), '60000/1001');
    assert.equal(frameRate(12.5), '25/2');
  });
});
