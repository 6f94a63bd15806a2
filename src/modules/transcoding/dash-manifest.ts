// The DASH manifest (ISO/IEC 23009-1, live profile) over the very fMP4 segments HLS serves: one
// encode, two protocols. Pure: returns the XML text.
import type { MeasuredSegment } from './segments.ts';

export interface DashTrack {
  /** Representation id, e.g. `720p` or `audio`. */
  id: string;
  /** The rendition's folder relative to the manifest, e.g. `../hls/720p/`. */
  baseUri: string;
  /** RFC 6381 string (see readInitSegment). */
  codecs: string;
  /** Peak rate (MeasuredRendition.peakBps). */
  bandwidth: number;
  /** Ticks per second of the timeline; the track's own (readInitSegment) keeps durations exact. */
  timescale?: number;
  initUri: string;
  segments: Array<Pick<MeasuredSegment, 'uri' | 'durationS'>>;
}

export interface DashVideo extends DashTrack {
  width: number;
  height: number;
  fps: number;
}

export interface DashAudio extends DashTrack {
  channels: number;
  sampleRate: number;
  /** BCP 47 tag, when known. */
  language?: string;
}

export interface DashManifestInput {
  video: DashVideo[];
  audio: DashAudio | null;
  /**
   * Set while the encode is still adding segments. Players then reload the manifest every
   * minimumUpdatePeriodS and may play up to availabilityStartTime + now; with no
   * timeShiftBufferDepth every segment stays reachable, so viewers can start from the beginning.
   */
  dynamic?: { availabilityStartTime: Date; publishTime: Date; minimumUpdatePeriodS: number };
}

const DEFAULT_TIMESCALE = 1_000_000;

export function dashManifest(input: DashManifestInput): string {
  if (input.video.length === 0) throw new Error('A DASH manifest needs at least one video track');
  const tracks: DashTrack[] = [...input.video, ...(input.audio ? [input.audio] : [])];
  const durationS = Math.max(...tracks.map((t) => sum(t.segments.map((s) => s.durationS))));
  // Rounded up: a maximum announced short of the truth is a broken promise to the player.
  const maxSegmentS =
    Math.ceil(Math.max(0, ...tracks.flatMap((t) => t.segments.map((s) => s.durationS))) * 1000) / 1000;

  const mpd: Record<string, string> = {
    xmlns: 'urn:mpeg:dash:schema:mpd:2011',
    profiles: 'urn:mpeg:dash:profile:isoff-live:2011',
  };
  if (input.dynamic) {
    mpd.type = 'dynamic';
    mpd.availabilityStartTime = input.dynamic.availabilityStartTime.toISOString();
    mpd.publishTime = input.dynamic.publishTime.toISOString();
    mpd.minimumUpdatePeriod = isoDuration(input.dynamic.minimumUpdatePeriodS);
  } else {
    mpd.type = 'static';
    mpd.mediaPresentationDuration = isoDuration(durationS);
  }
  mpd.maxSegmentDuration = isoDuration(maxSegmentS);
  // Bandwidth is a per-segment-window peak, so one segment of buffer keeps playback continuous.
  mpd.minBufferTime = isoDuration(Math.max(1, maxSegmentS));

  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<MPD${attrs(mpd)}>`];
  lines.push(`  <Period id="0" start="PT0S">`);
  const sorted = [...input.video].sort((a, b) => a.bandwidth - b.bandwidth);
  lines.push(
    `    <AdaptationSet${attrs({
      id: '0',
      contentType: 'video',
      mimeType: 'video/mp4',
      segmentAlignment: 'true',
      startWithSAP: '1',
      maxWidth: String(Math.max(...sorted.map((v) => v.width))),
      maxHeight: String(Math.max(...sorted.map((v) => v.height))),
    })}>`,
  );
  for (const v of sorted) {
    lines.push(
      `      <Representation${attrs({
        id: v.id,
        bandwidth: String(Math.ceil(v.bandwidth)),
        codecs: v.codecs,
        width: String(v.width),
        height: String(v.height),
        frameRate: frameRate(v.fps),
        sar: '1:1',
      })}>`,
      ...segmentTemplate(v, '        '),
      '      </Representation>',
    );
  }
  lines.push('    </AdaptationSet>');
  const { audio } = input;
  if (audio) {
    lines.push(
      `    <AdaptationSet${attrs({
        id: '1',
        contentType: 'audio',
        mimeType: 'audio/mp4',
        segmentAlignment: 'true',
        startWithSAP: '1',
        ...(audio.language ? { lang: audio.language } : {}),
      })}>`,
      `      <Representation${attrs({
        id: audio.id,
        bandwidth: String(Math.ceil(audio.bandwidth)),
        codecs: audio.codecs,
        audioSamplingRate: String(audio.sampleRate),
      })}>`,
      `        <AudioChannelConfiguration${attrs({
        schemeIdUri: 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011',
        value: String(audio.channels),
      })}/>`,
      ...segmentTemplate(audio, '        '),
      '      </Representation>',
      '    </AdaptationSet>',
    );
  }
  lines.push('  </Period>', '</MPD>');
  return `${lines.join('\n')}\n`;
}

/**
 * SegmentTemplate + SegmentTimeline: the form every DASH player supports, and the timeline carries
 * the measured durations. The encoder numbers segments `seg_00000.m4s`, `seg_00001.m4s`...; the
 * template is derived from those names and checked against every one of them.
 */
function segmentTemplate(track: DashTrack, indent: string): string[] {
  const first = track.segments[0];
  const m = first ? /^(.*?)(\d+)(\.[A-Za-z0-9]+)$/.exec(first.uri) : null;
  const prefix = m?.[1] ?? 'seg_';
  const digits = m?.[2]?.length ?? 5;
  const suffix = m?.[3] ?? '.m4s';
  const startNumber = m ? Number(m[2]) : 0;
  track.segments.forEach((s, i) => {
    const expected = `${prefix}${String(startNumber + i).padStart(digits, '0')}${suffix}`;
    if (s.uri !== expected) {
      throw new Error(`Segment ${s.uri} of ${track.id} breaks the numbering (expected ${expected})`);
    }
  });
  const timescale = track.timescale ?? DEFAULT_TIMESCALE;
  // Identifiers in a template start with $; a literal one is written $$ (23009-1 §5.3.9.4.4).
  const literal = (s: string) => s.replaceAll('$', '$$$$');
  const out = [
    `${indent}<SegmentTemplate${attrs({
      timescale: String(timescale),
      startNumber: String(startNumber),
      initialization: literal(track.baseUri + track.initUri),
      media: `${literal(track.baseUri + prefix)}$Number%0${digits}d$${literal(suffix)}`,
    })}>`,
    `${indent}  <SegmentTimeline>`,
  ];
  for (const run of timeline(track.segments, timescale)) {
    const s: Record<string, string> = { t: String(run.t), d: String(run.d) };
    if (run.repeat > 0) s.r = String(run.repeat);
    out.push(`${indent}    <S${attrs(s)}/>`);
  }
  out.push(`${indent}  </SegmentTimeline>`, `${indent}</SegmentTemplate>`);
  return out;
}

/** Runs of equal durations, each S element with its start so rounding can never drift. */
function timeline(
  segments: Array<{ durationS: number }>,
  timescale: number,
): Array<{ t: number; d: number; repeat: number }> {
  const runs: Array<{ t: number; d: number; repeat: number }> = [];
  let elapsedS = 0;
  for (const s of segments) {
    const t = Math.round(elapsedS * timescale);
    elapsedS += s.durationS;
    const d = Math.round(elapsedS * timescale) - t;
    const last = runs.at(-1);
    if (last && last.d === d && last.t + (last.repeat + 1) * last.d === t) last.repeat++;
    else runs.push({ t, d, repeat: 0 });
  }
  return runs;
}

/** FrameRateType is an integer or a ratio (23009-1 §5.3.12.2); NTSC rates are exact x/1001. */
export function frameRate(fps: number): string {
  if (Math.abs(fps - Math.round(fps)) < 0.001) return String(Math.round(fps));
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs((ntsc * 1000) / 1001 - fps) < 0.005) return `${ntsc * 1000}/1001`;
  const num = Math.round(fps * 1000);
  const g = gcd(num, 1000);
  return `${num / g}/${1000 / g}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function isoDuration(seconds: number): string {
  return `PT${Number(seconds.toFixed(3))}S`;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function attrs(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
}

function escapeXml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
