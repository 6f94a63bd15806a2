import type { VideoRow } from './repo.ts';
import { toProgressEvent } from './service.ts';

/** Where a video's media lives for playback; each processing run has its own version folder. */
export function mediaBase(v: Pick<VideoRow, 'id' | 'media_version'>): string {
  return `/media/videos/${v.id}/${v.media_version}`;
}

export function toVideoDto(v: VideoRow) {
  const info = v.media_info;
  const base = mediaBase(v);
  const playable = v.status === 'ready' || v.status === 'playable';
  return {
    id: v.id,
    owner_id: v.owner_id,
    title: v.title,
    description: v.description,
    status: v.status,
    visibility: v.visibility,
    created_at: v.created_at.toISOString(),
    ready_at: v.ready_at?.toISOString() ?? null,
    processing: toProgressEvent(v),
    media: info
      ? {
          duration_s: info.durationS,
          width: info.width,
          height: info.height,
          rotation: info.rotation,
          fps: info.fps,
          video_codec: info.videoCodec,
          pixel_format: info.pixelFormat,
          bit_rate: info.bitRate,
          has_audio: info.audio !== null,
        }
      : null,
    renditions: v.renditions ?? [],
    playback: playable
      ? {
          hls: `${base}/hls/master.m3u8`,
          dash: `${base}/dash/manifest.mpd`,
          poster: `${base}/images/poster.jpg`,
          storyboard_vtt: `${base}/images/storyboard.vtt`,
        }
      : null,
  };
}
