// Where a video's files live: object store keys and media URLs. Everything else builds them here, so
// the layout is written once.
//
//   sources/<video id>/original        the uploaded file
//   videos/<video id>/<version>/       the outputs of one processing run (a media version):
//     hls/master.m3u8, hls/<track>/index.m3u8 and its segments
//     dash/manifest.mpd                (no segments of its own: it points into ../hls/<track>/)
//     images/poster.jpg, images/thumb_<width>.jpg, images/storyboard.jpg, images/storyboard.vtt
//   videos/<video id>/thumbnails/custom-<n>.webp   the owner's thumbnail (uploaded, or a chosen frame),
//                                    kept across versions; a new name per change
//
//   /media/videos/<video id>/<version>/e<access epoch>/<path in the version folder>
//   /media/videos/<video id>/<version>/e<access epoch>/thumbnails/custom-<n>.webp (the video's folder)
//
// The access epoch is in the URL, not the key: the URLs change whenever fewer people may watch, so no
// cache (a CDN's too) serves the new audience what it kept for the old one, while the files stay put.

export const sourceKey = (videoId: string): string => `sources/${videoId}/original`;

/** Every stored object of a video, as store prefixes: its source, and its media of every version. */
export const videoFolders = (videoId: string): string[] => [`sources/${videoId}/`, `videos/${videoId}/`];

/** The folder of one media version, without the trailing slash. */
export const versionPrefix = (videoId: string, version: number): string => `videos/${videoId}/${version}`;

/**
 * Everything of one media version, as a store prefix to delete. The slash matters: prefixes match as
 * strings, and `videos/<id>/1` would also cover version 10.
 */
export const versionFolder = (videoId: string, version: number): string =>
  `${versionPrefix(videoId, version)}/`;

/** The key of a file of a version folder, from its prefix and its path inside it. */
export const mediaKey = (prefix: string, path: string): string => `${prefix}/${path}`;

// Paths inside a version folder; media URLs name files by the same paths.
const HLS_DIR = 'hls';
const DASH_DIR = 'dash';
const IMAGES_DIR = 'images';

export const HLS_MASTER = `${HLS_DIR}/master.m3u8`;
export const DASH_MANIFEST = `${DASH_DIR}/manifest.mpd`;
/** The media playlist in each track's folder. */
export const TRACK_PLAYLIST = 'index.m3u8';
/** A track's playlist, as the master playlist (in hls/) names it. */
export const trackPlaylistUri = (track: string): string => `${track}/${TRACK_PLAYLIST}`;
/** A file of one HLS track (rendition or audio): its playlist, init segment or a segment. */
export const hlsTrackPath = (track: string, file: string): string => `${HLS_DIR}/${track}/${file}`;
/** A track's folder as the DASH manifest (in dash/) reaches it: DASH plays the HLS segments. */
export const dashTrackBase = (track: string): string => `../${HLS_DIR}/${track}/`;

export const POSTER_FILE = 'poster.jpg';
export const STORYBOARD_FILE = 'storyboard.jpg';
export const STORYBOARD_VTT_FILE = 'storyboard.vtt';
export const thumbnailFile = (width: number): string => `thumb_${width}.jpg`;
export const imagePath = (file: string): string => `${IMAGES_DIR}/${file}`;
export const isImagePath = (path: string): boolean => path.startsWith(`${IMAGES_DIR}/`);

// The owner's thumbnail lives beside the version folders, so reprocessing keeps it; its URLs go through
// a version and epoch like every image, so the same access rules and tokens serve it.
const THUMBNAILS_DIR = 'thumbnails';

/** The key of a new custom thumbnail: a new name each time, so caches may keep each one forever. */
export const customThumbnailKey = (videoId: string, n: string): string =>
  `videos/${videoId}/${THUMBNAILS_DIR}/custom-${n}.webp`;

/** A video's poster or custom thumbnail, as a media URL (without its token). */
export function thumbnailUrl(v: {
  id: string;
  playback_version: number | null;
  access_epoch: number;
  thumbnail_key: string | null;
}): string | null {
  if (v.playback_version === null) return null;
  const base = mediaUrlBase(v.id, v.playback_version, v.access_epoch);
  const own = `videos/${v.id}/`;
  return v.thumbnail_key?.startsWith(own)
    ? `${base}/${v.thumbnail_key.slice(own.length)}`
    : `${base}/${imagePath(POSTER_FILE)}`;
}

/** Media URLs, as a Fastify route: `*` is the path inside the version folder. */
export const MEDIA_ROUTE = '/media/videos/:id/:version/:epoch/*';
/** Every media URL (CORS preflight). */
export const MEDIA_ROUTES_ALL = '/media/videos/*';

export const mediaUrlBase = (videoId: string, version: number, epoch: number): string =>
  `/media/videos/${videoId}/${version}/e${epoch}`;

const MEDIA_URL = /^\/media\/videos\/([0-9a-f-]{36})\/([1-9][0-9]{0,8})\/e([1-9][0-9]{0,8})\//;

/** The video, version and access epoch a media URL names (as mediaUrlBase writes them), if it is one. */
export function mediaUrlScope(url: string): { id: string; version: number; epoch: number } | null {
  const m = MEDIA_URL.exec(url);
  return m ? { id: m[1]!, version: Number(m[2]), epoch: Number(m[3]) } : null;
}

/** The `:version` of a media URL. */
export const VERSION_PARAM = /^[1-9][0-9]{0,8}$/;
/** The `:epoch` of a media URL: `e` and the access epoch. */
export const EPOCH_PARAM = /^e[1-9][0-9]{0,8}$/;
export const epochOfParam = (param: string): number => Number(param.slice(1));

export type MediaPathResult =
  | { ok: true; key: string }
  /** Not a media file name at all; `problem` says why, to be read after "it". */
  | { ok: false; reason: 'invalid'; problem: string }
  /** A name no media file has: names starting with a dot are the store's own (files being written). */
  | { ok: false; reason: 'not_media' };

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_PATH_LENGTH = 512;

/** The store key a media URL's path (inside the version folder) names, if it can name a media file. */
export function resolveMediaPath(videoId: string, version: number, path: string): MediaPathResult {
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
  if (problem) return { ok: false, reason: 'invalid', problem };
  if (path.split('/').some((s) => s.startsWith('.'))) return { ok: false, reason: 'not_media' };
  if (path.startsWith(`${THUMBNAILS_DIR}/`)) return { ok: true, key: `videos/${videoId}/${path}` };
  return { ok: true, key: mediaKey(versionPrefix(videoId, version), path) };
}
