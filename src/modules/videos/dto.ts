import type { Principal } from '../../platform/http/auth-guard.ts';
import { canManage, signsPlaybackUrls } from './access.ts';
import {
  DASH_MANIFEST,
  HLS_MASTER,
  imagePath,
  mediaUrlBase,
  mediaUrlScope,
  POSTER_FILE,
  STORYBOARD_VTT_FILE,
  thumbnailUrl,
} from './media-layout.ts';
import type { VideoDetailRow } from './repo.ts';
import { toProgressEvent } from './topics.ts';

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

/** A video as the API shows it to `principal`; what moderators decided only to its owner and admins. */
/** What the viewing module adds for a signed-in viewer (VideosService.extendAnswer). */
export interface ViewerState {
  liked: boolean;
  bookmarked: boolean;
  progress_s: number | null;
  completed: boolean;
}

export function toVideoDto(
  v: VideoDetailRow,
  signer: PlaybackSigner,
  principal: Principal | null,
  viewer: ViewerState | null = null,
) {
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
    channel: v.channel_id ? { id: v.channel_id, handle: v.channel_handle!, name: v.channel_name! } : null,
    title: v.title,
    description: v.description,
    tags: v.tags,
    category: v.category,
    language: v.language,
    status: v.status,
    publication: v.publication,
    publish_at: v.publish_at?.toISOString() ?? null,
    published_at: v.published_at?.toISOString() ?? null,
    visibility: v.visibility,
    access_tier: v.access_tier,
    ...(canManage(v, principal) ? { hidden: v.hidden, moderation_reason: v.moderation_reason } : {}),
    views_count: v.views_count,
    likes_count: v.likes_count,
    comments_count: v.comments_count,
    comments_enabled: v.comments_enabled,
    viewer: principal
      ? (viewer ?? { liked: false, bookmarked: false, progress_s: null, completed: false })
      : null,
    thumbnail_time_s: v.thumbnail_time_s,
    // An uploaded image wins over the poster drawn from the video; it is served once images are.
    thumbnail_url: grantedUrl(thumbnailUrl(v), grant?.image),
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

/** A media URL with its token, when it needs one. */
export function grantedUrl(url: string | null, token: string | undefined): string | null {
  return url && token ? `${url}?token=${token}` : url;
}

/**
 * An image URL (a thumbnail or poster) with a playback token, for lists that show videos not everyone
 * may watch (members-only) and keep their URLs in caches without tokens.
 */
export function signedImageUrl(url: string, signer: PlaybackSigner): string {
  const scope = mediaUrlScope(url);
  return scope ? `${url}?token=${signer.grant(scope).image}` : url;
}
