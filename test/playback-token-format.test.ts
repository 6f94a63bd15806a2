// Playback tokens on their own: what a token binds (video, version, kind, expiry) and that nothing
// else passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { type PlaybackScope, PlaybackTokens } from '../src/modules/videos/index.ts';
import { ERROR_CODES } from '../src/platform/errors/codes.ts';
import { DomainError } from '../src/platform/errors/domain-error.ts';

const SECRET = 'a-platform-secret-of-at-least-32-characters';
const tokens = PlaybackTokens.fromSecret(SECRET, 3600);
const scope: PlaybackScope = { videoId: uuidv7(), version: 3, epoch: 2, kind: 'stream' };
const inAnHour = () => new Date(Date.now() + 3_600_000);

function refused(f: () => unknown, code: string, detail?: RegExp): void {
  assert.throws(f, (err) => {
    assert.ok(err instanceof DomainError, String(err));
    assert.equal(err.code, code);
    assert.equal(ERROR_CODES[err.code].status, 403);
    if (detail) assert.match(err.message, detail);
    return true;
  });
}

describe('playback tokens', () => {
  it('verifies a token for the scope it was signed for and answers its expiry', () => {
    const expires = inAnHour();
    const token = tokens.sign(scope, expires);
    assert.match(token, /^[A-Za-z0-9_-]{64}$/);
    assert.equal(tokens.verify(token, scope).getTime(), Math.floor(expires.getTime() / 1000) * 1000);
    // Video ids compare without regard to case, as uuids do.
    tokens.verify(token, { ...scope, videoId: scope.videoId.toUpperCase() });
  });

  it('refuses a token for another video, version, access epoch or kind of media', () => {
    const token = tokens.sign(scope, inAnHour());
    refused(
      () => tokens.verify(token, { ...scope, videoId: uuidv7() }),
      'PLAYBACK_TOKEN_INVALID',
      /another video/,
    );
    refused(
      () => tokens.verify(token, { ...scope, version: 4 }),
      'PLAYBACK_TOKEN_INVALID',
      /another version/,
    );
    for (const epoch of [1, 3]) {
      refused(
        () => tokens.verify(token, { ...scope, epoch }),
        'PLAYBACK_TOKEN_INVALID',
        /another access epoch/,
      );
    }
    refused(
      () => tokens.verify(token, { ...scope, kind: 'image' }),
      'PLAYBACK_TOKEN_INVALID',
      /stream media/,
    );
    const image = tokens.sign({ ...scope, kind: 'image' }, inAnHour());
    refused(() => tokens.verify(image, scope), 'PLAYBACK_TOKEN_INVALID', /image media/);
  });

  it('refuses an expired token, and one expiring this very moment', () => {
    const now = Date.now();
    const past = tokens.sign(scope, new Date(now - 1000));
    refused(() => tokens.verify(past, scope), 'PLAYBACK_TOKEN_EXPIRED', /expired at/);
    const edge = new Date(Math.floor(now / 1000) * 1000 + 60_000);
    const token = tokens.sign(scope, edge);
    assert.ok(tokens.verify(token, scope, edge.getTime() - 1));
    refused(() => tokens.verify(token, scope, edge.getTime()), 'PLAYBACK_TOKEN_EXPIRED');
  });

  it('refuses a token with any character changed, or signed with another secret', () => {
    const token = tokens.sign(scope, inAnHour());
    for (let i = 0; i < token.length; i++) {
      const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      refused(() => tokens.verify(changed, scope), 'PLAYBACK_TOKEN_INVALID');
    }
    const other = PlaybackTokens.fromSecret(`${SECRET}!`, 3600).sign(scope, inAnHour());
    refused(() => tokens.verify(other, scope), 'PLAYBACK_TOKEN_INVALID', /not issued by this server/);
  });

  it('refuses what is not a token at all', () => {
    const token = tokens.sign(scope, inAnHour());
    for (const bad of ['', 'abc', `${token}A`, token.slice(1), '!'.repeat(64), `${token.slice(0, 62)}==`]) {
      refused(() => tokens.verify(bad, scope), 'PLAYBACK_TOKEN_INVALID', /malformed/);
    }
    const jwtLike = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWdu';
    refused(() => tokens.verify(jwtLike, scope), 'PLAYBACK_TOKEN_INVALID');
  });

  it('grants both kinds with one expiry, rounded up so soon repeated grants are the same', () => {
    const ttl = 21_600;
    const sixHours = PlaybackTokens.fromSecret(SECRET, ttl);
    const now = Date.UTC(2026, 10, 23, 10, 0, 1);
    const grant = sixHours.grant({ id: scope.videoId, version: 3, epoch: 2 }, now);
    const lifetimeS = (grant.expiresAt.getTime() - now) / 1000;
    assert.ok(lifetimeS >= ttl && lifetimeS <= ttl + 300, String(lifetimeS));
    assert.equal(grant.expiresAt.getTime() % 300_000, 0);
    const again = sixHours.grant({ id: scope.videoId, version: 3, epoch: 2 }, now + 60_000);
    assert.deepEqual(again, grant);
    sixHours.verify(grant.stream, scope, now);
    sixHours.verify(grant.image, { ...scope, kind: 'image' }, now);
    refused(() => sixHours.verify(grant.image, scope, now), 'PLAYBACK_TOKEN_INVALID');
    // A short lifetime is rounded by a tenth of itself at most.
    const minute = PlaybackTokens.fromSecret(SECRET, 60).grant(
      { id: scope.videoId, version: 3, epoch: 2 },
      now,
    );
    const short = (minute.expiresAt.getTime() - now) / 1000;
    assert.ok(short >= 60 && short <= 66, String(short));
  });
});
