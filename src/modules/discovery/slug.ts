// Tag slugs: lower case letters (any script) and digits, words joined by "-". Video tags are slugs of
// the same rule (videos' `tagSlug`), which is what makes a video's tags match the curated ones.
import { TAG_SLUG_MAX, tagSlug } from '../videos/index.ts';

export const SLUG_PATTERN = /^[\p{Ll}\p{Lo}\p{Nd}]+(-[\p{Ll}\p{Lo}\p{Nd}]+)*$/u;

/** "Hip Hop!" → "hip-hop"; "日本 料理" → "日本-料理". Empty when the name has no letter or digit. */
export function slugify(name: string): string {
  return tagSlug(name).slice(0, TAG_SLUG_MAX).replace(/-+$/, '');
}
