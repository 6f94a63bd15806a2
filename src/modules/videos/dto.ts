import { signsPlaybackUrls } from './access.ts';
import {
  DASH_MANIFEST,
  HLS_MASTER,
  imagePath,
  mediaUrlBase,
  POSTER_FILE,
  STORYBOARD_VTT_FILE,
} from './media-layout.ts';
import type { VideoRow } from './repo.ts';
import { toProgressEvent } from './service.ts';

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
  // Players resolve a playlist's relative URIs to URLs of the same version and access epoch.
  const base = v.playback_version === null ? null : mediaUrlBase(v.id, v.playback_version, v.access_epoch);
  // The caller was let in by `viewable`.
  const grant =
    v.playback_version !== null && signsPlaybackUrls(v)
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
          hls: `${base}/${HLS_MASTER}${query(grant?.stream)}`,
          dash: `${base}/${DASH_MANIFEST}${query(grant?.stream)}`,
          poster: `${base}/${imagePath(POSTER_FILE)}${query(grant?.image)}`,
          storyboard_vtt: `${base}/${imagePath(STORYBOARD_VTT_FILE)}${query(grant?.image)}`,
          expires_at: grant?.expiresAt.toISOString() ?? null,
        }
      : null,
  };
}
