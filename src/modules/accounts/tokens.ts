// Access tokens: HS256 JWTs, algorithm pinned on verify (alg "none" and other algorithms are refused).
// Refresh tokens: opaque random strings; only their sha256 is stored.
import { createHash, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { BoundedCache } from './bounded-cache.ts';

const ALG = 'HS256';
const ISSUER = 'vireo';
const AUDIENCE = 'vireo-api';
// Both ids are looked up as uuid columns; anything else must fail here, not in SQL.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

export class AccessTokens {
  private readonly key: Uint8Array;
  // A client presents the same token on every request for its whole life: its signature is checked
  // once, then the exact token string is remembered until it expires. A changed byte misses the cache.
  private readonly verified = new BoundedCache<AccessClaims>(20_000, 15 * 60_000);

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** The claims of a token verified earlier and not yet expired; checks nothing again. */
  known(token: string): AccessClaims | undefined {
    return this.verified.get(token);
  }

  async verify(token: string): Promise<AccessClaims> {
    const known = this.verified.get(token);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALG],
        issuer: ISSUER,
        audience: AUDIENCE,
        // A token without an expiry would work for as long as the key does.
        requiredClaims: ['exp'],
      });
      const { sub, sid, exp } = payload;
      if (typeof sub !== 'string' || typeof sid !== 'string' || !UUID.test(sub) || !UUID.test(sid))
        throw new DomainError('TOKEN_INVALID');
      const claims = { userId: sub, sessionId: sid };
      this.verified.set(token, claims, exp! * 1000);
      return claims;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new DomainError('TOKEN_EXPIRED');
      if (err instanceof DomainError) throw err;
      throw new DomainError('TOKEN_INVALID');
    }
  }
}

export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = `rt_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

/** A fast hash is right here: the token has 256 random bits, there is nothing to brute-force. */
export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
