// Measures what ffmpeg actually wrote for one rendition: segment sizes and durations from its media
// playlist, and the RFC 6381 codec string from its init segment. The master playlist and the DASH
// manifest are written from these numbers, never from the encoder's targets.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface MeasuredSegment {
  /** As written in the playlist, relative to it. */
  uri: string;
  durationS: number;
  bytes: number;
}

export interface MeasuredRendition {
  /** The EXT-X-MAP URI, relative to the playlist. */
  initUri: string;
  segments: MeasuredSegment[];
  /** RFC 8216 §4.1 peak segment bit rate: what BANDWIDTH and DASH @bandwidth announce. */
  peakBps: number;
  /** RFC 8216 §4.1 average segment bit rate: what AVERAGE-BANDWIDTH announces. */
  averageBps: number;
  durationS: number;
  targetDurationS: number;
  /** The playlist has EXT-X-ENDLIST: ffmpeg will add no more segments. */
  complete: boolean;
}

export interface MediaPlaylist {
  initUri: string | null;
  targetDurationS: number | null;
  entries: Array<{ uri: string; durationS: number }>;
  complete: boolean;
}

/** Pure reading of a media playlist; tolerates one still being written (no ENDLIST, a cut last line). */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const out: MediaPlaylist = { initUri: null, targetDurationS: null, entries: [], complete: false };
  let pending: number | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#EXTINF:')) {
      const d = Number.parseFloat(line.slice(8));
      pending = Number.isFinite(d) ? d : null;
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      out.targetDurationS = Number.parseFloat(line.slice(22)) || null;
    } else if (line.startsWith('#EXT-X-MAP:')) {
      out.initUri = /URI="([^"]*)"/.exec(line)?.[1] ?? null;
    } else if (line === '#EXT-X-ENDLIST') {
      out.complete = true;
    } else if (line.startsWith('#EXT-X-BYTERANGE')) {
      throw new Error('Byte-range segments are not produced by the encoder and are not supported');
    } else if (!line.startsWith('#') && pending !== null) {
      out.entries.push({ uri: line, durationS: pending });
      pending = null;
    }
  }
  return out;
}

/**
 * Reads `<dir>/index.m3u8` and sizes every segment it lists. The init segment counts in neither rate:
 * RFC 8216 §4.1 defines both over Media Segments only, and a player fetches the init once per switch.
 */
export async function measureRendition(dir: string): Promise<MeasuredRendition> {
  const playlist = parseMediaPlaylist(await fs.readFile(path.join(dir, 'index.m3u8'), 'utf8'));
  if (!playlist.initUri) throw new Error(`${dir}/index.m3u8 has no EXT-X-MAP: not an fMP4 rendition`);
  const segments: MeasuredSegment[] = [];
  for (const [i, entry] of playlist.entries.entries()) {
    const bytes = await fileSize(path.join(dir, entry.uri));
    if (bytes === null) {
      // The last line of a playlist caught mid-write can name a file that is not there yet.
      if (!playlist.complete && i === playlist.entries.length - 1) break;
      throw new Error(`${dir}/${entry.uri} is listed in the playlist but missing`);
    }
    segments.push({ ...entry, bytes });
  }
  const targetDurationS =
    playlist.targetDurationS ?? Math.ceil(Math.max(0, ...segments.map((s) => s.durationS)));
  return summarize(playlist.initUri, segments, targetDurationS, playlist.complete);
}

/** The rates and totals of a rendition's segments, however they were collected. */
export function summarize(
  initUri: string,
  segments: MeasuredSegment[],
  targetDurationS: number,
  complete: boolean,
): MeasuredRendition {
  const durationS = segments.reduce((sum, s) => sum + s.durationS, 0);
  const totalBytes = segments.reduce((sum, s) => sum + s.bytes, 0);
  return {
    initUri,
    segments,
    peakBps: peakBitRate(segments, targetDurationS),
    averageBps: durationS > 0 ? Math.ceil((totalBytes * 8) / durationS) : 0,
    durationS,
    targetDurationS,
    complete,
  };
}

/**
 * RFC 8216 §4.1: the largest bit rate of any contiguous run of segments lasting 0.5 to 1.5 target
 * durations. A short last segment alone would otherwise announce a keyframe's burst as the peak.
 */
export function peakBitRate(
  segments: Array<{ durationS: number; bytes: number }>,
  targetDurationS: number,
): number {
  let peak = 0;
  for (let i = 0; i < segments.length; i++) {
    let bytes = 0;
    let duration = 0;
    for (let j = i; j < segments.length; j++) {
      bytes += segments[j]!.bytes;
      duration += segments[j]!.durationS;
      if (duration > 1.5 * targetDurationS) break;
      if (duration >= 0.5 * targetDurationS) peak = Math.max(peak, (bytes * 8) / duration);
    }
  }
  if (peak === 0) {
    // Too little media yet (or ever) for a window: the whole run is the best estimate there is.
    const bytes = segments.reduce((sum, s) => sum + s.bytes, 0);
    const duration = segments.reduce((sum, s) => sum + s.durationS, 0);
    peak = duration > 0 ? (bytes * 8) / duration : 0;
  }
  return Math.ceil(peak);
}

async function fileSize(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export interface InitSegmentInfo {
  /** RFC 6381, e.g. `avc1.64001f` or `mp4a.40.2`. */
  codecs: string;
  /** Media timescale of the track (mdhd): ticks per second of its sample timestamps. */
  timescale: number;
}

/** Walks the init segment's boxes (ISO/IEC 14496-12) itself: ffprobe shows no constraint flags. */
export async function readInitSegment(initFile: string): Promise<InitSegmentInfo> {
  const buf = await fs.readFile(initFile);
  const trak = child(buf, { start: 0, end: buf.length }, ['moov', 'trak']);
  const mdia = trak && child(buf, trak, ['mdia']);
  const mdhd = mdia && child(buf, mdia, ['mdhd']);
  const stsd = mdia && child(buf, mdia, ['minf', 'stbl', 'stsd']);
  if (!mdhd || !stsd) throw new Error(`${initFile} is not an fMP4 init segment`);
  // mdhd v1 carries 64-bit creation/modification times before the timescale.
  const timescale = buf.readUInt32BE(mdhd.start + (buf[mdhd.start] === 1 ? 20 : 12));
  // stsd: version/flags and entry count, then the first sample entry.
  const entry = boxes(buf, { start: stsd.start + 8, end: stsd.end })[0];
  if (!entry) throw new Error(`${initFile} has no sample description`);
  return { codecs: codecString(buf, entry, initFile), timescale };
}

interface Box {
  type: string;
  /** Payload bounds, header excluded. */
  start: number;
  end: number;
}

function boxes(buf: Buffer, range: { start: number; end: number }): Box[] {
  const found: Box[] = [];
  let at = range.start;
  while (at + 8 <= range.end) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) {
      size = range.end - at;
    }
    if (size < header || at + size > range.end) break;
    found.push({ type, start: at + header, end: at + size });
    at += size;
  }
  return found;
}

function child(buf: Buffer, range: { start: number; end: number }, pathTypes: string[]): Box | undefined {
  let current: Box | undefined;
  let scope = range;
  for (const type of pathTypes) {
    current = boxes(buf, scope).find((b) => b.type === type);
    if (!current) return undefined;
    scope = current;
  }
  return current;
}

function codecString(buf: Buffer, entry: Box, file: string): string {
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    // VisualSampleEntry fields take 78 bytes before the child boxes.
    const avcC = child(buf, { start: entry.start + 78, end: entry.end }, ['avcC']);
    if (!avcC) throw new Error(`${file} has an ${entry.type} entry without avcC`);
    // avcC: configurationVersion, then profile_idc, constraint flags, level_idc (RFC 6381 §3.3).
    return `${entry.type}.${buf.subarray(avcC.start + 1, avcC.start + 4).toString('hex')}`;
  }
  if (entry.type === 'mp4a') {
    // AudioSampleEntry fields take 28 bytes before the child boxes.
    const esds = child(buf, { start: entry.start + 28, end: entry.end }, ['esds']);
    if (!esds) throw new Error(`${file} has an mp4a entry without esds`);
    return aacCodecString(buf, esds.start + 4, esds.end, file);
  }
  throw new Error(`${file}: codec ${entry.type} is not one the encoder produces`);
}

/** `mp4a.<objectTypeIndication hex>.<audioObjectType>` from the ES descriptors (ISO/IEC 14496-1). */
function aacCodecString(buf: Buffer, start: number, end: number, file: string): string {
  let at = start;
  let oti: number | null = null;
  while (at < end) {
    const tag = buf[at++]!;
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const b = buf[at++]!;
      size = (size << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    if (tag === 0x03) {
      // ES_Descriptor: ES_ID, then flags saying which optional fields follow.
      const flags = buf[at + 2]!;
      at += 3;
      if (flags & 0x80) at += 2;
      if (flags & 0x40) at += 1 + buf[at]!;
      if (flags & 0x20) at += 2;
    } else if (tag === 0x04) {
      oti = buf[at]!;
      at += 13;
    } else if (tag === 0x05) {
      if (oti === null) break;
      // AudioSpecificConfig: 5-bit object type; 31 escapes to 32 + the next 6 bits.
      let aot = buf[at]! >> 3;
      if (aot === 31) aot = 32 + (((buf[at]! & 0x07) << 3) | (buf[at + 1]! >> 5));
      return `mp4a.${oti.toString(16)}.${aot}`;
    } else {
      at += size;
    }
  }
  throw new Error(`${file}: no AAC decoder configuration in esds`);
}
