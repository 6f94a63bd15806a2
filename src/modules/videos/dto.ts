import type { VideoRow } from './repo.ts';
import { toProgressEvent } from './service.ts';

/**
 * Where a video's media lives for playback: each processing run has its own version folder, and the
 * access epoch is in the path so that the URLs change whenever fewer people may watch. Caches (a
 * CDN's too) then never serve the new audience from what they kept for the old one, and players
 * resolve the relative URIs of a playlist to URLs of the same epoch.
 */
export function mediaBase(v: Pick<VideoRow, 'id' | 'access_epoch'>, version: number): string {
  return `/media/videos/${v.id}/${version}/e${v.access_epoch}`;
}

/**
 * Signs the media URLs of a video that is not public; the playback module supplies it. `stream` goes
 * on playlists and manifests, `image` on the poster and storyboard.
 */
export interface PlaybackSigner {
  grant(video: { id: string; version: number; epoch: number }): {
    stream: string;
    image: string;
    expiresAt: Date;
  };
}

export function toVideoDto(v: VideoRow, signer: PlaybackSigner) {
  const info = v.media_info;
  const base = v.playback_version === null ? null : mediaBase(v, v.playback_version);
  // Whoever may see a video that is not public may watch it: the caller was let in by `viewable`.
  const grant =
    v.playback_version !== null && v.visibility !== 'public'
      ? signer.grant({ id: v.id, version: v.playback_version, epoch: v.access_epoch })
      : null;
  const query = (token: string | undefined) => (token ? `?token=${token}` : '');
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
    playback: base
      ? {
          hls: `${base}/hls/master.m3u8${query(grant?.stream)}`,
          dash: `${base}/dash/manifest.mpd${query(grant?.stream)}`,
          poster: `${base}/images/poster.jpg${query(grant?.image)}`,
          storyboard_vtt: `${base}/images/storyboard.vtt${query(grant?.image)}`,
          expires_at: grant?.expiresAt.toISOString() ?? null,
        }
      : null,
  };
}
