// Where channel images live and how they are drawn.
//
//   channels/<channel id>/avatar-<tag>.<ext>    256x256
//   channels/<channel id>/banner-<tag>.<ext>    2048x512
//
//   /media/channels/<channel id>/<file>
//
// Each new image gets a new name, so a URL always means the same bytes and may be cached for good.
import { randomBytes } from 'node:crypto';
import type { ImageTarget } from '../../platform/media/image.ts';

export type ImageKind = 'avatar' | 'banner';

export const IMAGE_KINDS: Record<ImageKind, ImageTarget & { column: 'avatar_key' | 'banner_key' }> = {
  avatar: { width: 256, height: 256, output: 'webp', column: 'avatar_key' },
  banner: { width: 2048, height: 512, output: 'webp', column: 'banner_key' },
};

/** A channel's folder when `file` is empty. */
export const imageKey = (channelId: string, file: string): string => `channels/${channelId}/${file}`;

export const imageFileName = (kind: ImageKind, ext: string): string =>
  `${kind}-${Date.now().toString(36)}${randomBytes(4).toString('hex')}.${ext}`;

/** What a media URL may name: nothing else is looked up. */
export const IMAGE_FILE = /^(avatar|banner)-[a-z0-9]{1,40}\.(webp|jpg)$/;

export const IMAGE_ROUTE = '/media/channels/:id/:file';

/** The URL of a stored image, from its key. */
export const imageUrl = (key: string | null): string | null => (key ? `/media/${key}` : null);
