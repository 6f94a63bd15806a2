// The media playlists Vireo serves, written from the segments already in the store: EVENT while the
// encode still adds segments, VOD with ENDLIST once it is done. Pure: returns the text.
import type { MeasuredSegment } from './segments.ts';

export interface MediaPlaylistInput {
  /** Must not change while the playlist grows (RFC 8216 §6.2.1). */
  targetDurationS: number;
  initUri: string;
  segments: Array<Pick<MeasuredSegment, 'uri' | 'durationS'>>;
  /** No more segments will be added. */
  complete: boolean;
}

export function mediaPlaylist(input: MediaPlaylistInput): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${input.targetDurationS}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${input.complete ? 'VOD' : 'EVENT'}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  // A player treats a playlist without ENDLIST like a live one and would join near its end; this asks
  // it to start at the beginning, as a viewer of a freshly uploaded video expects.
  if (!input.complete) lines.push('#EXT-X-START:TIME-OFFSET=0,PRECISE=YES');
  lines.push(`#EXT-X-MAP:URI="${input.initUri}"`);
  for (const s of input.segments) lines.push(`#EXTINF:${s.durationS.toFixed(6)},`, s.uri);
  if (input.complete) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** The target duration: the longest segment rounded, never below the planned segment length. */
export function targetDuration(plannedS: number, segments: Array<{ durationS: number }>): number {
  return Math.max(Math.ceil(plannedS), ...segments.map((s) => Math.round(s.durationS)));
}
