// Access tokens made by hand: expired, tampered, unsigned or signed with the wrong key or algorithm.
import { decodeJwt, type JWTPayload, SignJWT } from 'jose';

/** The JWT_SECRET test apps are started with when a test forges tokens. */
export const TEST_JWT_SECRET = 'vireo-test-access-token-secret-0123456789';

const encoder = new TextEncoder();
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface SignOptions {
  secret?: string;
  alg?: 'HS256' | 'HS384' | 'HS512';
  issuer?: string;
  audience?: string;
  /** Seconds since the epoch. */
  issuedAt?: number;
  /** Seconds since the epoch; `null`: no `exp` claim at all. */
  expiresAt?: number | null;
}

/** Signs claims the way Vireo does (HS256, issuer vireo, audience vireo-api) unless told otherwise. */
export function signAccessToken(claims: JWTPayload, opts: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const alg = opts.alg ?? 'HS256';
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(opts.issuer ?? 'vireo')
    .setAudience(opts.audience ?? 'vireo-api')
    .setIssuedAt(opts.issuedAt ?? now);
  if (opts.expiresAt !== null) jwt.setExpirationTime(opts.expiresAt ?? now + 900);
  return jwt.sign(encoder.encode(opts.secret ?? TEST_JWT_SECRET));
}

/** The subject (user id) and session id a Vireo access token carries. */
export function claimsOf(token: string): { sub: string; sid: string } & JWTPayload {
  const payload = decodeJwt(token);
  return { ...payload, sub: String(payload.sub), sid: String(payload.sid) };
}

/** The same token with its payload changed and the original signature kept. */
export function withPayload(token: string, patch: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64url({ ...decodeJwt(token), ...patch })}.${signature}`;
}

/** The same token with one signature byte changed. */
export function withBrokenSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/** An unsecured JWT (`alg: none`, empty signature) carrying the given token's claims. */
export function unsignedCopy(token: string): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(decodeJwt(token))}.`;
}
