// The HLS master playlist, written from measured segments: ffmpeg's own announces one made-up
// BANDWIDTH for every rung in CRF mode. Pure: returns the text.

export interface HlsVariant {
  /** Media playlist URI relative to the master, e.g. `720p/index.m3u8`. */
  uri: string;
  width: number;
  height: number;
  fps: number;
  /** RFC 6381 string of the video track, e.g. `avc1.64001f` (see readInitSegment). */
  codecs: string;
  peakBps: number;
  averageBps: number;
}

export interface HlsAudio {
  uri: string;
  /** e.g. `mp4a.40.2`. */
  codecs: string;
  channels: number;
  peakBps: number;
  averageBps: number;
  /** BCP 47 tag, when known. */
  language?: string;
}

export interface MasterPlaylistInput {
  variants: HlsVariant[];
  audio: HlsAudio | null;
}

const AUDIO_GROUP = 'aud';

export function masterPlaylist(input: MasterPlaylistInput): string {
  if (input.variants.length === 0) throw new Error('A master playlist needs at least one variant');
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const { audio } = input;
  if (audio) {
    const attrs = [
      'TYPE=AUDIO',
      `GROUP-ID=${quoted(AUDIO_GROUP)}`,
      `NAME=${quoted('default')}`,
      ...(audio.language ? [`LANGUAGE=${quoted(audio.language)}`] : []),
      'DEFAULT=YES',
      'AUTOSELECT=YES',
      `CHANNELS=${quoted(String(audio.channels))}`,
      `URI=${quoted(audio.uri)}`,
    ];
    lines.push(`#EXT-X-MEDIA:${attrs.join(',')}`);
  }
  // RFC 8216 §4.3.4.2: BANDWIDTH is the largest sum of peak rates of any playable combination of
  // renditions; with one audio rendition that is video + audio, and likewise for the averages.
  const rows = input.variants
    .map((v) => ({
      v,
      bandwidth: Math.ceil(v.peakBps + (audio?.peakBps ?? 0)),
      average: Math.ceil(v.averageBps + (audio?.averageBps ?? 0)),
    }))
    .sort((a, b) => a.bandwidth - b.bandwidth);
  for (const { v, bandwidth, average } of rows) {
    const codecs = audio ? `${v.codecs},${audio.codecs}` : v.codecs;
    const attrs = [
      `BANDWIDTH=${bandwidth}`,
      `AVERAGE-BANDWIDTH=${average}`,
      `CODECS=${quoted(codecs)}`,
      `RESOLUTION=${v.width}x${v.height}`,
      // decimal-floating-point rounded to three places (§4.3.4.2).
      `FRAME-RATE=${v.fps.toFixed(3)}`,
      ...(audio ? [`AUDIO=${quoted(AUDIO_GROUP)}`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, uriLine(v.uri));
  }
  return `${lines.join('\n')}\n`;
}

/** quoted-string (§4.2) cannot carry a double quote or a line break. */
function quoted(value: string): string {
  if (/["\r\n]/.test(value)) throw new Error(`Not allowed in an HLS quoted-string: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

function uriLine(uri: string): string {
  if (/[\r\n]/.test(uri) || uri.startsWith('#'))
    throw new Error(`Not a playlist URI: ${JSON.stringify(uri)}`);
  return uri;
}
