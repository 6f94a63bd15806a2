// Adds a playback token to every URI inside a playlist, manifest or storyboard as Vireo serves it, so
// that players (hls.js, Safari, dash.js) carry the token on without code of their own: a relative URI
// resolves against the playlist's URL without its query. Pure text transforms, line by line for HLS,
// so a playlist still being written (no EXT-X-ENDLIST yet) is rewritten like a finished one.

/** The query parameter media URLs carry their token in. */
export const TOKEN_PARAM = 'token';

export type Rewrite = (text: string, token: string) => string;

/** The rewrite for a media file, or null when its content names no other file. */
export function rewriterFor(path: string): Rewrite | null {
  const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  if (extension === 'm3u8') return rewriteHlsPlaylist;
  if (extension === 'mpd') return rewriteDashManifest;
  if (extension === 'vtt') return rewriteImageVtt;
  return null;
}

/**
 * `uri` with `token=<token>` in its query (replacing one already there), before any fragment.
 * A URI with a scheme or an authority points elsewhere (another host, `data:`, `skd:` keys): the
 * token is not ours to hand out there, so it is left alone. `amp` is the separator as written in the
 * surrounding text (`&amp;` inside XML).
 */
export function withToken(uri: string, token: string, amp = '&'): string {
  if (uri === '' || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) || uri.startsWith('//')) return uri;
  const hash = uri.indexOf('#');
  const fragment = hash >= 0 ? uri.slice(hash) : '';
  const rest = hash >= 0 ? uri.slice(0, hash) : uri;
  const question = rest.indexOf('?');
  const path = question >= 0 ? rest.slice(0, question) : rest;
  const params = question >= 0 ? rest.slice(question + 1).split(amp) : [];
  const kept = params.filter((p) => p !== '' && p !== TOKEN_PARAM && !p.startsWith(`${TOKEN_PARAM}=`));
  kept.push(`${TOKEN_PARAM}=${encodeURIComponent(token)}`);
  return `${path}?${kept.join(amp)}${fragment}`;
}

// A URI attribute (RFC 8216 §4.2) starts the attribute list or follows a comma; `X-FOO-URI` does not.
const URI_ATTRIBUTE = /(^|[:,])URI="([^"]*)"/g;

/**
 * RFC 8216: a line is a tag (`#EXT`), a comment (other `#`), blank, or a URI. URIs are URI lines
 * (variants, segments) and URI attributes of tags (EXT-X-MAP, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF,
 * EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT, EXT-X-KEY, EXT-X-SESSION-DATA ...).
 */
export function rewriteHlsPlaylist(text: string, token: string): string {
  return mapLines(text, (line) => {
    const content = line.trim();
    if (content === '') return line;
    if (content.startsWith('#EXT')) {
      return line.replace(
        URI_ATTRIBUTE,
        (_, lead: string, uri: string) => `${lead}URI="${withToken(uri, token)}"`,
      );
    }
    if (content.startsWith('#')) return line;
    return withToken(content, token);
  });
}

// Attributes of SegmentTemplate, SegmentURL, Initialization and RepresentationIndex that hold URLs
// (ISO/IEC 23009-1 §5.3.9); `indexRange` and `mediaRange` are byte ranges, not URLs.
const DASH_URL_ATTRIBUTE = /(\s)(media|initialization|index|sourceURL)=(["'])(.*?)\3/g;
const DASH_URL_ELEMENT = /<(Location|PatchLocation)(\s[^>]*)?>([^<]*)<\/\1>/g;

/**
 * Segment templates and URLs, and the manifest's own update location. BaseURL is left as it is: a
 * query on a base is dropped when the relative URLs below it are resolved, so the token goes on those.
 */
export function rewriteDashManifest(text: string, token: string): string {
  return text
    .replace(
      DASH_URL_ATTRIBUTE,
      (_, space: string, name: string, quote: string, uri: string) =>
        `${space}${name}=${quote}${withToken(uri, token, '&amp;')}${quote}`,
    )
    .replace(
      DASH_URL_ELEMENT,
      (_, name: string, attrs: string | undefined, uri: string) =>
        `<${name}${attrs ?? ''}>${withToken(uri.trim(), token, '&amp;')}</${name}>`,
    );
}

// A cue payload line that names one image, as storyboards do: `storyboard.jpg#xywh=0,0,160,90`.
const IMAGE_REFERENCE = /^[^\s#?]+\.(jpe?g|png|webp|avif)(\?[^\s#]*)?(#\S*)?$/i;

/**
 * A storyboard's cues point into its sprite. Only cue payload lines (after a timing line, up to the
 * blank line) that are nothing but an image reference are rewritten: identifiers, notes and the text
 * of a subtitle cue never change.
 */
export function rewriteImageVtt(text: string, token: string): string {
  let inPayload = false;
  return mapLines(text, (line) => {
    const content = line.trim();
    if (content === '') inPayload = false;
    else if (content.includes('-->')) inPayload = true;
    else if (inPayload && IMAGE_REFERENCE.test(content)) return withToken(content, token);
    return line;
  });
}

/** Applies `f` to every line, keeping each line's ending (LF or CRLF) and a last line without one. */
function mapLines(text: string, f: (line: string) => string): string {
  return text
    .split('\n')
    .map((line) => (line.endsWith('\r') ? `${f(line.slice(0, -1))}\r` : f(line)))
    .join('\n');
}
