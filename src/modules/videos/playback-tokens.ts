// Playback tokens: short-lived proofs that their holder may fetch one kind of media of one version of
// one video, in one access epoch of it (the epoch moves when fewer people may watch the video: a token
// handed out before stops working then). Checked on every segment request, so they are a fixed-size
// binary record and a truncated HMAC-SHA256 (a few microseconds), not a JWT with its JSON and header
// parsing.
//
//   byte 0      format (2)
//   byte 1      kind (1 stream, 2 image)
//   bytes 2-17  video id (uuid)
//   bytes 18-21 media version (uint32)
//   bytes 22-25 access epoch (uint32)
//   bytes 26-29 expiry (unix seconds, uint32)
//   bytes 30-47 first 18 bytes of HMAC-SHA256(key, bytes 0-29)
//
// base64url of the 48 bytes: 64 characters (no spare bits, so a token has one spelling only), safe in
// a query string, a playlist and an XML attribute.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../platform/errors/domain-error.ts';

/** `stream`: playlists, manifests and segments; `image`: poster, thumbnails and the storyboard. */
export type MediaKind = 'stream' | 'image';

export interface PlaybackScope {
  videoId: string;
  version: number;
  /** The video's access epoch when the token was handed out. */
  epoch: number;
  kind: MediaKind;
}

export interface PlaybackGrant {
  stream: string;
  image: string;
  expiresAt: Date;
}

const FORMAT = 2;
const KINDS: MediaKind[] = ['stream', 'image'];
const PAYLOAD_BYTES = 30;
const MAC_BYTES = 18;
const TOKEN_CHARS = Math.ceil(((PAYLOAD_BYTES + MAC_BYTES) * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Longest a token's life may grow by rounding its expiry up (see `grant`). */
const MAX_ROUNDING_S = 300;

export class PlaybackTokens {
  private constructor(
    private readonly key: Buffer,
    readonly ttlSeconds: number,
  ) {}

  /**
   * The key is derived from the platform secret for this one purpose (HKDF), so a playback token can
   * never pass as an access token or the reverse, and the platform secret itself never signs media.
   */
  static fromSecret(secret: string, ttlSeconds: number): PlaybackTokens {
    const key = Buffer.from(hkdfSync('sha256', secret, 'vireo', 'playback-token-v1', 32));
    return new PlaybackTokens(key, ttlSeconds);
  }

  sign(scope: PlaybackScope, expiresAt: Date): string {
    if (!UUID.test(scope.videoId)) throw new Error(`Not a video id: ${scope.videoId}`);
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    payload.writeUInt8(FORMAT, 0);
    payload.writeUInt8(KINDS.indexOf(scope.kind) + 1, 1);
    Buffer.from(scope.videoId.replaceAll('-', ''), 'hex').copy(payload, 2);
    payload.writeUInt32BE(scope.version, 18);
    payload.writeUInt32BE(scope.epoch, 22);
    payload.writeUInt32BE(Math.floor(expiresAt.getTime() / 1000), 26);
    return Buffer.concat([payload, this.mac(payload)]).toString('base64url');
  }

  /**
   * Tokens for both kinds of one video version with one expiry. The expiry is rounded up (by at most
   * a tenth of the lifetime, five minutes at most) so that viewers who open the video again soon get
   * the very same URLs, and their browser cache still holds the segments.
   */
  grant(video: { id: string; version: number; epoch: number }, now = Date.now()): PlaybackGrant {
    const step = Math.max(1, Math.min(MAX_ROUNDING_S, Math.floor(this.ttlSeconds / 10)));
    const expiresS = Math.ceil((now / 1000 + this.ttlSeconds) / step) * step;
    const expiresAt = new Date(expiresS * 1000);
    const scope = { videoId: video.id, version: video.version, epoch: video.epoch };
    return {
      stream: this.sign({ ...scope, kind: 'stream' }, expiresAt),
      image: this.sign({ ...scope, kind: 'image' }, expiresAt),
      expiresAt,
    };
  }

  /** The token's expiry when it was signed by us for exactly this scope and is still valid. */
  verify(token: string, expected: PlaybackScope, now = Date.now()): Date {
    const bytes =
      token.length === TOKEN_CHARS && BASE64URL.test(token) ? Buffer.from(token, 'base64url') : null;
    if (!bytes || bytes.length !== PAYLOAD_BYTES + MAC_BYTES) {
      throw new DomainError('PLAYBACK_TOKEN_INVALID', 'The playback token is malformed');
    }
    const payload = bytes.subarray(0, PAYLOAD_BYTES);
    if (!timingSafeEqual(bytes.subarray(PAYLOAD_BYTES), this.mac(payload)) || payload[0] !== FORMAT) {
      throw new DomainError('PLAYBACK_TOKEN_INVALID', 'The playback token was not issued by this server');
    }
    const videoId = formatUuid(payload.subarray(2, 18).toString('hex'));
    if (videoId !== expected.videoId.toLowerCase()) {
      throw new DomainError('PLAYBACK_TOKEN_INVALID', 'The playback token is for another video');
    }
    if (payload.readUInt32BE(18) !== expected.version) {
      throw new DomainError(
        'PLAYBACK_TOKEN_INVALID',
        'The playback token is for another version of the video',
      );
    }
    if (payload.readUInt32BE(22) !== expected.epoch) {
      throw new DomainError(
        'PLAYBACK_TOKEN_INVALID',
        'The playback token is for another access epoch of the video: get new media URLs from the video',
      );
    }
    const kind = KINDS[payload[1]! - 1];
    if (kind !== expected.kind) {
      throw new DomainError(
        'PLAYBACK_TOKEN_INVALID',
        `The playback token is for ${kind ?? 'unknown'} media, not ${expected.kind} media`,
      );
    }
    const expiresAt = new Date(payload.readUInt32BE(26) * 1000);
    if (expiresAt.getTime() <= now) {
      throw new DomainError(
        'PLAYBACK_TOKEN_EXPIRED',
        `The playback token expired at ${expiresAt.toISOString()}; get new media URLs from the video`,
      );
    }
    return expiresAt;
  }

  private mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, MAC_BYTES);
  }
}

function formatUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
