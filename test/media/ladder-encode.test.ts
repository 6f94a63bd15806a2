// End to end with the real ffmpeg: one-decode ladder encode, then the manifests written from what it
// produced, read back by ffprobe's own HLS and DASH demuxers.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DashManifestInput, dashManifest } from '../../src/modules/transcoding/dash-manifest.ts';
import { buildEncodeArgs } from '../../src/modules/transcoding/encode-command.ts';
import { type LadderPlan, planLadder } from '../../src/modules/transcoding/ladder.ts';
import { type MasterPlaylistInput, masterPlaylist } from '../../src/modules/transcoding/master-playlist.ts';
import {
  type MeasuredRendition,
  measureRendition,
  readInitSegment,
} from '../../src/modules/transcoding/segments.ts';
import type { MediaInfo } from '../../src/platform/media/media-info.ts';
import { probe } from '../../src/platform/media/probe.ts';
import { mediaTools, runTool } from '../../src/platform/media/tools.ts';
import { type ClipOptions, makeClip, tempDir } from '../helpers/media.ts';

const LADDER = { rungs: [240, 360], segmentSeconds: 2, crf: 28 };

interface Encoded {
  info: MediaInfo;
  plan: LadderPlan;
  /** `<version>/hls`, with the master playlist; the DASH manifest is in `<version>/dash`. */
  hls: string;
  dash: string;
  measured: Map<string, MeasuredRendition>;
  master: string;
  mpd: string;
}

/** Encodes a clip and writes both manifests the way the pipeline does. */
async function encode(dir: string, name: string, clip: ClipOptions): Promise<Encoded> {
  const source = await makeClip(dir, name, clip);
  const info = await probe(source);
  const plan = planLadder(info, LADDER);
  const hls = path.join(dir, name, 'hls');
  const dash = path.join(dir, name, 'dash');
  const folders = [...plan.renditions.map((r) => r.name), ...(plan.audio ? ['audio'] : [])];
  for (const f of [...folders.map((f) => path.join(hls, f)), dash]) await fs.mkdir(f, { recursive: true });
  await runTool(
    mediaTools().ffmpeg,
    buildEncodeArgs(info, plan, { input: source, outDir: hls, playlistType: 'vod' }),
  );

  const measured = new Map<string, MeasuredRendition>();
  const inits = new Map<string, { codecs: string; timescale: number }>();
  for (const f of folders) {
    const m = await measureRendition(path.join(hls, f));
    measured.set(f, m);
    inits.set(f, await readInitSegment(path.join(hls, f, m.initUri)));
  }
  const audio = plan.audio ? { m: measured.get('audio')!, init: inits.get('audio')! } : null;
  const masterInput: MasterPlaylistInput = {
    variants: plan.renditions.map((r) => ({
      uri: `${r.name}/index.m3u8`,
      width: r.width,
      height: r.height,
      fps: r.fps,
      codecs: inits.get(r.name)!.codecs,
      peakBps: measured.get(r.name)!.peakBps,
      averageBps: measured.get(r.name)!.averageBps,
    })),
    audio: audio && {
      uri: 'audio/index.m3u8',
      codecs: audio.init.codecs,
      channels: plan.audio!.channels,
      peakBps: audio.m.peakBps,
      averageBps: audio.m.averageBps,
    },
  };
  const track = (f: string) => ({
    id: f,
    baseUri: `../hls/${f}/`,
    codecs: inits.get(f)!.codecs,
    timescale: inits.get(f)!.timescale,
    bandwidth: measured.get(f)!.peakBps,
    initUri: measured.get(f)!.initUri,
    segments: measured.get(f)!.segments,
  });
  const dashInput: DashManifestInput = {
    video: plan.renditions.map((r) => ({ ...track(r.name), width: r.width, height: r.height, fps: r.fps })),
    audio: plan.audio && {
      ...track('audio'),
      channels: plan.audio.channels,
      sampleRate: plan.audio.sampleRate,
    },
  };
  const master = masterPlaylist(masterInput);
  const mpd = dashManifest(dashInput);
  await fs.writeFile(path.join(hls, 'master.m3u8'), master);
  await fs.writeFile(path.join(dash, 'manifest.mpd'), mpd);
  return { info, plan, hls, dash, measured, master, mpd };
}

async function ffprobeJson(args: string[]): Promise<Record<string, unknown[]>> {
  const { stdout } = await runTool(mediaTools().ffprobe, ['-v', 'error', '-of', 'json', ...args]);
  return JSON.parse(stdout);
}

/** A rendition as one fMP4 file: its init segment followed by every media segment. */
async function joined(dir: string, m: MeasuredRendition): Promise<string> {
  const parts = await Promise.all(
    [m.initUri, ...m.segments.map((s) => s.uri)].map((u) => fs.readFile(path.join(dir, u))),
  );
  const file = path.join(dir, 'joined.mp4');
  await fs.writeFile(file, Buffer.concat(parts));
  return file;
}

async function keyframeTimes(file: string): Promise<string[]> {
  const out = await ffprobeJson([
    ...['-skip_frame', 'nokey', '-select_streams', 'v:0'],
    ...['-show_entries', 'frame=best_effort_timestamp_time', file],
  ]);
  return (out.frames as Array<{ best_effort_timestamp_time: string }>).map(
    (f) => f.best_effort_timestamp_time,
  );
}

/** Element names in order, after checking every tag is closed in order: enough to call it XML. */
function xmlElements(xml: string): string[] {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<&]*(?:&[a-z]+;[^"<&]*)*")*)\s*(\/?)>/g;
  let at = 0;
  for (const m of body.matchAll(tag)) {
    assert.match(body.slice(at, m.index), /^\s*$/, 'only whitespace between tags');
    at = m.index + m[0].length;
    if (m[1]) assert.equal(stack.pop(), m[2], `</${m[2]}> closes the open element`);
    else {
      names.push(m[2]!);
      if (!m[4]) stack.push(m[2]!);
    }
  }
  assert.match(body.slice(at), /^\s*$/);
  assert.deepEqual(stack, [], 'every element is closed');
  return names;
}

describe('ladder encode of a 640x360 clip with sound', () => {
  let dir: string;
  let e: Encoded;
  before(async () => {
    dir = await tempDir();
    e = await encode(dir, 'landscape', { width: 640, height: 360, seconds: 6 });
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('encodes every planned rung at its size as 8-bit 4:2:0 H.264', async () => {
    assert.deepEqual(
      e.plan.renditions.map((r) => [r.name, r.width, r.height]),
      [
        ['240p', 426, 240],
        ['360p', 640, 360],
      ],
    );
    for (const r of e.plan.renditions) {
      const file = await joined(path.join(e.hls, r.name), e.measured.get(r.name)!);
      const [s] = (await ffprobeJson(['-show_entries', 'stream=codec_name,width,height,pix_fmt', file]))
        .streams as Array<Record<string, unknown>>;
      assert.deepEqual(s, { codec_name: 'h264', width: r.width, height: r.height, pix_fmt: 'yuv420p' });
    }
  });

  it('puts keyframes at the same timestamps in every rung, one per segment', async () => {
    const times = await Promise.all(
      e.plan.renditions.map(async (r) =>
        keyframeTimes(await joined(path.join(e.hls, r.name), e.measured.get(r.name)!)),
      ),
    );
    assert.equal(times[0]!.length, e.measured.get('240p')!.segments.length);
    for (const t of times.slice(1)) assert.deepEqual(t, times[0]);
  });

  it('makes the first segment half as long, so that a video is playable sooner', () => {
    for (const [name, m] of e.measured) {
      const durations = m.segments.map((s) => Math.round(s.durationS * 10) / 10);
      assert.ok(Math.abs(durations[0]! - LADDER.segmentSeconds / 2) < 0.1, `${name}: ${durations}`);
      // Every later one is whole, but for the last one.
      for (const d of durations.slice(1, -1)) {
        assert.ok(
          Math.abs(d - (name === 'audio' ? 1 : LADDER.segmentSeconds)) < 0.1,
          `${name}: ${durations}`,
        );
      }
    }
  });

  it('announces a peak rate no segment exceeds', () => {
    for (const r of e.plan.renditions) {
      const m = e.measured.get(r.name)!;
      const largest = m.segments.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      assert.ok(m.peakBps >= (largest.bytes * 8) / largest.durationS);
      for (const s of m.segments.filter((s) => s.durationS >= m.targetDurationS / 2)) {
        assert.ok(m.peakBps >= (s.bytes * 8) / s.durationS, `${r.name} ${s.uri}`);
      }
      assert.ok(m.averageBps > 0 && m.averageBps <= m.peakBps);
      assert.ok(Math.abs(m.durationS - e.info.durationS) < 0.1);
    }
  });

  it('lists exactly the planned rungs in the master playlist, with the audio group', async () => {
    const infs = [...e.master.matchAll(/#EXT-X-STREAM-INF:(.*)\n(.*)/g)];
    assert.deepEqual(
      infs.map((m) => m[2]),
      ['240p/index.m3u8', '360p/index.m3u8'],
    );
    for (const [m, r] of infs.map((m, i) => [m, e.plan.renditions[i]!] as const)) {
      assert.match(m[1]!, /CODECS="avc1\.64[0-9a-f]{4},mp4a\.40\.2"/);
      assert.match(m[1]!, new RegExp(`RESOLUTION=${r.width}x${r.height},FRAME-RATE=30\\.000,AUDIO="aud"`));
    }
    assert.match(e.master, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",.*CHANNELS="2",URI="audio\/index.m3u8"/);
    // ffprobe's HLS demuxer reads the master and every playlist and segment it points to.
    const out = await ffprobeJson([
      '-show_entries',
      'stream=codec_name,width,height',
      `${e.hls}/master.m3u8`,
    ]);
    const streams = out.streams as Array<{ codec_name: string; width?: number; height?: number }>;
    assert.deepEqual(
      streams
        .filter((s) => s.codec_name === 'h264')
        .map((s) => `${s.width}x${s.height}`)
        .sort(),
      ['426x240', '640x360'],
    );
    assert.ok(streams.some((s) => s.codec_name === 'aac'));
  });

  it('writes a DASH manifest over the same files that DASH readers accept', async () => {
    const names = xmlElements(e.mpd);
    assert.equal(names[0], 'MPD');
    assert.equal(names.filter((n) => n === 'AdaptationSet').length, 2);
    assert.equal(names.filter((n) => n === 'Representation').length, 3);
    // Every URL the templates expand to, resolved from <version>/dash/, is a file the encode wrote.
    const reps = [...e.mpd.matchAll(/<SegmentTemplate [^>]*>[\s\S]*?<\/SegmentTemplate>/g)];
    assert.equal(reps.length, 3);
    for (const [block] of reps) {
      const init = /initialization="([^"]+)"/.exec(block)![1]!;
      const media = /media="([^"]+)"/.exec(block)![1]!;
      let n = Number(/startNumber="(\d+)"/.exec(block)![1]);
      const urls = [init];
      for (const s of block.matchAll(/<S [^>]*?(?: r="(\d+)")?\/>/g)) {
        for (let i = 0; i <= Number(s[1] ?? 0); i++) {
          urls.push(media.replace(/\$Number%05d\$/, String(n++).padStart(5, '0')));
        }
      }
      for (const u of urls) await fs.access(path.resolve(e.dash, u));
      assert.equal(urls.length - 1, e.measured.get(/\.\.\/hls\/([^/]+)\//.exec(init)![1]!)!.segments.length);
    }
    const out = await ffprobeJson([
      '-show_entries',
      'stream=codec_name,width,height',
      `${e.dash}/manifest.mpd`,
    ]);
    const codecs = (out.streams as Array<{ codec_name: string }>).map((s) => s.codec_name).sort();
    assert.deepEqual(codecs, ['aac', 'h264', 'h264']);
  });
});

describe('ladder encode of a silent clip shot upright', () => {
  let dir: string;
  let e: Encoded;
  before(async () => {
    dir = await tempDir();
    e = await encode(dir, 'portrait', { width: 640, height: 360, seconds: 4, audio: false, rotate: 90 });
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('encodes portrait rungs', async () => {
    assert.deepEqual(
      e.plan.renditions.map((r) => [r.width, r.height]),
      [
        [240, 426],
        [360, 640],
      ],
    );
    for (const r of e.plan.renditions) {
      const file = await joined(path.join(e.hls, r.name), e.measured.get(r.name)!);
      const [s] = (await ffprobeJson(['-show_entries', 'stream=width,height', file])).streams as Array<
        Record<string, unknown>
      >;
      assert.deepEqual(s, { width: r.width, height: r.height });
    }
    assert.match(e.master, /RESOLUTION=240x426/);
  });

  it('has no audio group in the master playlist nor audio set in the DASH manifest', async () => {
    assert.equal(e.plan.audio, null);
    await assert.rejects(fs.access(path.join(e.hls, 'audio')));
    assert.doesNotMatch(e.master, /EXT-X-MEDIA|AUDIO=|mp4a/);
    assert.match(e.master, /CODECS="avc1\.64[0-9a-f]{4}",RESOLUTION/);
    assert.doesNotMatch(e.mpd, /contentType="audio"/);
    assert.equal(xmlElements(e.mpd).filter((n) => n === 'AdaptationSet').length, 1);
  });
});
