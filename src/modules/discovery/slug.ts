// Tag slugs: lower case letters (any script) and digits, words joined by "-". Video tags are slugs.
export const SLUG_PATTERN = /^[\p{Ll}\p{Lo}\p{Nd}]+(-[\p{Ll}\p{Lo}\p{Nd}]+)*$/u;

/** "Hip Hop!" → "hip-hop"; "日本 料理" → "日本-料理". Empty when the name has no letter or digit. */
export function slugify(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{Nd}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
}
