// Playback: the media file a URL names, served as videos/access.ts decides for the caller; how long
// caches may keep it, and whether its URIs get a playback token.

import { DomainError } from '../../platform/errors/domain-error.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import {
  decideMedia,
  isImagePath,
  type MediaKind,
  type PlaybackTokens,
  type PresentedToken,
  resolveMediaPath,
  type VideosService,
} from '../videos/index.ts';
import { rewriterFor } from './playlist-rewrite.ts';

/** `public`: anyone may watch, so shared caches may keep it; `private`: only this caller may. */
export type Audience = 'public' | 'private';

export interface MediaFile {
  key: string;
  cacheControl: string;
  /** Set when the file names other media and the caller needs a token to fetch them. */
  rewrite: ((text: string) => string) | null;
}

/** Written once per processing run: each run writes under a new version folder, so these never change. */
const IMMUTABLE = new Set(['m4s', 'mp4', 'm4a', 'jpg', 'webp', 'png', 'vtt']);
const IMAGES = new Set(['jpg', 'jpeg', 'png', 'webp', 'avif']);

export class PlaybackService {
  constructor(
    private readonly videos: VideosService,
    private readonly tokens: PlaybackTokens,
  ) {}

  /**
   * The media file a URL names, if the caller may fetch it (videos/access.ts decides): anyone for a
   * public, playable video; its owner (or an admin) by their bearer token; anyone else with a playback
   * token for this video, version, access epoch and kind of media; only URLs of the current epoch.
   */
  async locate(
    id: string,
    version: number,
    epoch: number,
    path: string,
    principal: Principal | null,
    token: string | undefined,
  ): Promise<MediaFile> {
    const key = mediaKeyOf(id, version, path);
    const kind = mediaKindOf(path);
    const video = await this.videos.getWithOwner(id);
    if (!video) throw new DomainError('VIDEO_NOT_FOUND');
    // Checked against this URL whether or not the video needs it; the decision says if it counts.
    let presented: PresentedToken = 'absent';
    let rejection: unknown;
    if (token !== undefined) {
      try {
        this.tokens.verify(token, { videoId: id, version, epoch, kind });
        presented = 'valid';
      } catch (err) {
        presented = 'rejected';
        rejection = err;
      }
    }
    const decision = decideMedia(video, principal, { epoch, token: presented });
    if (!decision.serve) {
      if (decision.because === 'token_rejected') throw rejection;
      if (decision.because === 'outdated') {
        throw new DomainError(
          'MEDIA_URL_OUTDATED',
          `Fewer people may watch this video than when this URL was handed out: get its current URLs from GET /api/v1/videos/${id}`,
        );
      }
      throw new DomainError('VIDEO_NOT_FOUND');
    }
    const rewriter = decision.onward === 'none' ? null : rewriterFor(path);
    if (!rewriter) return { key, cacheControl: cacheControl(path, decision.audience, false), rewrite: null };
    const onward = decision.onward === 'presented' ? token! : this.signFor(id, version, epoch, kind);
    return {
      key,
      cacheControl: cacheControl(path, decision.audience, true),
      rewrite: (text) => rewriter(text, onward),
    };
  }

  private signFor(id: string, version: number, epoch: number, kind: MediaKind): string {
    const scope = { videoId: id, version, epoch, kind };
    return this.tokens.sign(scope, new Date(Date.now() + this.tokens.ttlSeconds * 1000));
  }
}

/**
 * Images (and the storyboard that points into one) are one kind, everything a player streams the
 * other: a token handed out for a poster cannot fetch the video.
 */
export function mediaKindOf(path: string): MediaKind {
  const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return isImagePath(path) || IMAGES.has(extension) ? 'image' : 'stream';
}

/**
 * Playlists and manifests grow while a video is processed, so caches revalidate them; one that carries
 * a token must not be stored at all. Media only this caller may fetch stays out of shared caches.
 */
function cacheControl(path: string, audience: Audience, rewritten: boolean): string {
  if (rewritten) return 'private, no-store';
  const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  if (IMMUTABLE.has(extension)) return `${audience}, max-age=31536000, immutable`;
  return audience === 'public' ? 'no-cache' : 'private, no-cache';
}

/** VALIDATION_FAILED for a path that is not a media file name; NOT_FOUND for one no media file has. */
function mediaKeyOf(id: string, version: number, path: string): string {
  const resolved = resolveMediaPath(id, version, path);
  if (resolved.ok) return resolved.key;
  if (resolved.reason === 'not_media') throw new DomainError('NOT_FOUND', 'No such media file');
  throw new DomainError('VALIDATION_FAILED', `Invalid media path: it ${resolved.problem}`, {
    fields: [{ field: 'path', message: resolved.problem }],
  });
}
