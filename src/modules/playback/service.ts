// Playback rules: which media file a URL names, who may fetch it, and how long caches may keep it.
import type { Principal } from '../../platform/http/auth-guard.ts';
import { AppError } from '../../platform/http/errors.ts';
import type { VideosService } from '../videos/index.ts';

/** `public`: anyone may watch, so shared caches may keep it; `private`: only the owner or an admin. */
export type Audience = 'public' | 'private';

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_PATH_LENGTH = 512;

/** Written once per processing run: each run writes under a new version folder, so these never change. */
const IMMUTABLE = new Set(['m4s', 'mp4', 'm4a', 'jpg', 'webp', 'png', 'vtt']);

export class PlaybackService {
  constructor(private readonly videos: VideosService) {}

  /** The store key of a media file of a video, if the caller may watch that video. */
  async locate(
    id: string,
    version: number,
    path: string,
    principal: Principal | null,
  ): Promise<{ key: string; audience: Audience }> {
    checkMediaPath(path);
    const audience = await this.audienceOf(id, principal);
    return { key: `videos/${id}/${version}/${path}`, audience };
  }

  /** Playlists and manifests grow while a video is processed, so caches revalidate them. */
  cacheControl(path: string, audience: Audience): string {
    const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
    if (IMMUTABLE.has(extension)) return `${audience}, max-age=31536000, immutable`;
    return audience === 'public' ? 'no-cache' : 'private, no-cache';
  }

  /**
   * Media shown only because of the caller's token (a private or unfinished video) must not land in a
   * shared cache, so the anonymous view is asked first; it is also the common case.
   */
  private async audienceOf(id: string, principal: Principal | null): Promise<Audience> {
    try {
      await this.videos.viewable(id, null);
      return 'public';
    } catch (err) {
      if (!principal || !(err instanceof AppError && err.code === 'VIDEO_NOT_FOUND')) throw err;
    }
    await this.videos.viewable(id, principal);
    return 'private';
  }
}

function checkMediaPath(path: string): void {
  const problem =
    path === ''
      ? 'is empty'
      : path.length > MAX_PATH_LENGTH
        ? `is longer than ${MAX_PATH_LENGTH} characters`
        : path.includes('..')
          ? 'must not contain ".."'
          : !path.split('/').every((s) => SEGMENT.test(s) && s !== '.')
            ? 'may hold only letters, digits, ".", "_", "-" and "/" between names'
            : null;
  if (problem) {
    throw new AppError('VALIDATION_FAILED', `Invalid media path: it ${problem}`, {
      fields: [{ field: 'path', message: problem }],
    });
  }
}
