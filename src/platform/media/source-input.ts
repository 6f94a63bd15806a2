// How ffmpeg and ffprobe may open an upload. Many demuxers open further files or URLs named inside
// their input (HLS and DASH playlists, concat lists, image sequences, IMF packages, companion files):
// an upload written as one of those would read other videos' media, or the network, as its own. So an
// upload is opened only as one of the containers below, only through the `file` protocol, and from a
// descriptor rather than a path (see media-process.ts): a relative reference inside it resolves under
// /dev, never next to the store.

/** Demuxers, by ffmpeg's names, that read everything from the one input they are given. */
export const SOURCE_FORMATS = [
  'mov', // MP4, MOV, M4V, 3GP (external data references stay off: `enable_drefs` is not set)
  'matroska', // MKV, WebM
  'avi',
  'flv',
  'mpegts', // TS, M2TS, MTS
  'mpeg', // MPEG program stream: MPG, VOB
  'asf', // WMV
  'ogg',
  'mxf',
  'dv',
  'nut',
  'ivf',
  'gif',
  'yuv4mpegpipe',
  // Raw elementary streams.
  'h264',
  'hevc',
  'mpegvideo',
  'm4v',
] as const;

/** The descriptor a media process reads its source from. */
export const SOURCE_FD = 3;

/** The source as ffmpeg and ffprobe name it: the descriptor, through the only protocol allowed. */
export const SOURCE_URL = `file:/dev/fd/${SOURCE_FD}`;

/**
 * Options that go before the source's `-i` (ffmpeg) or before the source (ffprobe). `format`, the
 * demuxer the probe found, makes a later decode read the file the way the probe did.
 */
export function sourceInputOptions(format?: string): string[] {
  return [
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    SOURCE_FORMATS.join(','),
    ...(format ? ['-f', format] : []),
  ];
}

/** The demuxer for `-f` from ffprobe's `format_name` (`mov,mp4,m4a,…` is demuxer `mov`). */
export function demuxerOf(formatName: string): string | undefined {
  const name = formatName.split(',')[0];
  return SOURCE_FORMATS.find((f) => f === name);
}
