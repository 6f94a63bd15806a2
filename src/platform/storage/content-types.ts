// Media types by file extension: the fs driver keeps no metadata, so a key's extension names its type.
import path from 'node:path';

const BY_EXTENSION: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.png': 'image/png',
  '.vtt': 'text/vtt',
  '.json': 'application/json',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function contentTypeOf(key: string): string {
  return BY_EXTENSION[path.posix.extname(key).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}
