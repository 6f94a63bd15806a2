import type { MediaInfo } from '../../src/platform/media/media-info.ts';

/** A probed 10 s 1080p30 H.264 source with stereo AAC, changed where a test says. */
export function mediaInfo(overrides: Partial<MediaInfo> = {}): MediaInfo {
  return {
    container: 'mp4',
    durationS: 10,
    width: 1920,
    height: 1080,
    rotation: 0,
    fps: 30,
    videoCodec: 'h264',
    pixelFormat: 'yuv420p',
    bitDepth: 8,
    interlaced: false,
    bitRate: 5_000_000,
    audio: { codec: 'aac', channels: 2, sampleRate: 48_000 },
    ...overrides,
  };
}
