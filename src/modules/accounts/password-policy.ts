// What a new password must not be, beyond its length: one of the passwords attackers try first, or the
// account's own username or email. Checked wherever a password is set (sign-up, password change, an
// administrator made by `vireo admin create` or ADMIN_PASSWORD).
import { readFileSync } from 'node:fs';
import { DomainError } from '../../platform/errors/domain-error.ts';

let common: Set<string> | undefined;

/** Read on first use: a few thousand short lines. */
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
  return common;
}

/** Why `password` may not be used by this account, or undefined when it may. */
export function passwordWeakness(
  password: string,
  account: { username: string; email: string },
): string | undefined {
  const folded = password.toLowerCase();
  if (folded === account.username.toLowerCase()) return 'must not be the username';
  if (folded === account.email.toLowerCase()) return 'must not be the email address';
  if (commonPasswords().has(folded.trim())) return 'is one of the most common passwords; choose another';
  return undefined;
}

/** Throws VALIDATION_FAILED naming `field` when the password may not be used (see passwordWeakness). */
export function assertPasswordAllowed(
  password: string,
  account: { username: string; email: string },
  field = 'password',
): void {
  const weakness = passwordWeakness(password, account);
  if (weakness) {
    throw new DomainError('VALIDATION_FAILED', `The ${field.replaceAll('_', ' ')} ${weakness}`, {
      fields: [{ field, message: weakness }],
    });
  }
}
