/** What ffprobe tells about a source file, normalised. */
export interface MediaInfo {
  container: string;
  durationS: number;
  /** The picture's own length when the container tells it: shorter than durationS when sound runs on. */
  videoDurationS?: number;
  /** Coded size, before rotation. */
  width: number;
  height: number;
  /** Clockwise display rotation in degrees: 0, 90, 180 or 270. */
  rotation: 0 | 90 | 180 | 270;
  fps: number;
  videoCodec: string;
  pixelFormat: string;
  bitDepth: number;
  interlaced: boolean;
  bitRate: number | null;
  audio: { codec: string; channels: number; sampleRate: number } | null;
}

/** The size a viewer sees: rotation by 90 or 270 degrees swaps width and height. */
export function displaySize(info: Pick<MediaInfo, 'width' | 'height' | 'rotation'>): {
  width: number;
  height: number;
} {
  return info.rotation % 180 === 0
    ? { width: info.width, height: info.height }
    : { width: info.height, height: info.width };
}
