// @username mentions in a comment's text. Pure: the service resolves the names to accounts.

/** At most this many distinct names are looked up per comment; later ones are plain text. */
export const MAX_MENTIONS = 10;

// A username (accounts' rule: 3-32 letters, digits or underscores) after an `@` that does not end a
// word: "mail@example" names no one, and "@ab" or a 33-character name are not usernames.
const MENTION = /(?<![\p{L}\p{N}_@])@([A-Za-z0-9_]{3,32})(?![A-Za-z0-9_])/gu;

/** The distinct names mentioned, in lower case, in the order they first appear, at most MAX_MENTIONS. */
export function mentionedNames(body: string): string[] {
  const names = new Set<string>();
  for (const m of body.matchAll(MENTION)) {
    names.add(m[1]!.toLowerCase());
    if (names.size === MAX_MENTIONS) break;
  }
  return [...names];
}
