// Who may see what, as one table: every visibility × caller × owner's account status × whether the
// video has anything playable, and what each caller is then let do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AccessFacts,
  canManage,
  canSee,
  decideMedia,
  type MediaDecision,
  mediaAccessOf,
  narrowsAudience,
  type PresentedToken,
  signsPlaybackUrls,
  tierDecision,
} from '../src/modules/videos/index.ts';
import type { Principal } from '../src/platform/http/auth-guard.ts';

const OWNER = '01890a5d-ac96-774b-bcce-b302099a8057';
const OTHER = '01890a5d-ac96-774b-bcce-b302099a8058';
const ADMIN = '01890a5d-ac96-774b-bcce-b302099a8059';

const callers: Record<'anonymous' | 'other' | 'owner' | 'admin', Principal | null> = {
  anonymous: null,
  other: { userId: OTHER, sessionId: 's1', role: 'user' },
  owner: { userId: OWNER, sessionId: 's2', role: 'user' },
  admin: { userId: ADMIN, sessionId: 's3', role: 'admin' },
};

type Visibility = AccessFacts['visibility'];
type OwnerStatus = AccessFacts['owner_status'];

function video(visibility: Visibility, playable: boolean, ownerStatus: OwnerStatus = 'active') {
  // Playable: a version viewers are sent to (`playable` or `ready`, or an earlier run's after a failure).
  return {
    owner_id: OWNER,
    visibility,
    playback_version: playable ? 1 : null,
    owner_status: ownerStatus,
    access_epoch: 3,
    publication: 'published' as const,
    hidden: false,
    access_tier: 0 as const,
  };
}

/**
 * Each cell: whether the caller sees the video (`sees` / `404`), then how they may fetch its media:
 * `public` (anyone, shared caches too), `granted` (by their bearer token), `token` (only with a
 * playback token), `none`.
 */
type Cell = `${'sees' | '404'}/${'public' | 'granted' | 'token' | 'none'}`;
type Row = [Visibility, 'playable' | 'unplayable', OwnerStatus, Cell, Cell, Cell, Cell];

// biome-ignore format: a table reads best aligned
const TABLE: Row[] = [
  // visibility  media         owner      anonymous      other          owner           admin
  ['public',   'playable',   'active',  'sees/public', 'sees/public', 'sees/public',  'sees/public'],
  ['public',   'unplayable', 'active',  '404/token',   '404/token',   'sees/granted', 'sees/granted'],
  ['unlisted', 'playable',   'active',  'sees/token',  'sees/token',  'sees/granted', 'sees/granted'],
  ['unlisted', 'unplayable', 'active',  '404/token',   '404/token',   'sees/granted', 'sees/granted'],
  ['private',  'playable',   'active',  '404/token',   '404/token',   'sees/granted', 'sees/granted'],
  ['private',  'unplayable', 'active',  '404/token',   '404/token',   'sees/granted', 'sees/granted'],
  ['public',   'playable',   'hidden',  '404/none',    '404/none',    '404/none',     'sees/public'],
  ['public',   'unplayable', 'hidden',  '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['unlisted', 'playable',   'hidden',  '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['unlisted', 'unplayable', 'hidden',  '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['private',  'playable',   'hidden',  '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['private',  'unplayable', 'hidden',  '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['public',   'playable',   'deleted', '404/none',    '404/none',    '404/none',     'sees/public'],
  ['public',   'unplayable', 'deleted', '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['unlisted', 'playable',   'deleted', '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['unlisted', 'unplayable', 'deleted', '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['private',  'playable',   'deleted', '404/none',    '404/none',    '404/none',     'sees/granted'],
  ['private',  'unplayable', 'deleted', '404/none',    '404/none',    '404/none',     'sees/granted'],
];

describe('video access', () => {
  it('covers every combination once', () => {
    const keys = new Set(TABLE.map(([v, p, o]) => `${v}/${p}/${o}`));
    assert.equal(keys.size, 3 * 2 * 3);
    assert.equal(TABLE.length, keys.size);
  });

  for (const [visibility, media, ownerStatus, ...cells] of TABLE) {
    it(`${visibility}, ${media}, owner ${ownerStatus}`, () => {
      const v = video(visibility, media === 'playable', ownerStatus);
      const names = Object.keys(callers) as Array<keyof typeof callers>;
      const got = names.map((name) => {
        const principal = callers[name];
        return `${canSee(v, principal) ? 'sees' : '404'}/${mediaAccessOf(v, principal)}`;
      });
      assert.deepEqual(got, cells, `anonymous, other, owner, admin of ${JSON.stringify(v)}`);
    });
  }

  it('signs the playback URLs of a playable video unless everyone may watch it', () => {
    const cases: Array<[Visibility, boolean, boolean]> = [
      ['public', true, false],
      ['unlisted', true, true],
      ['private', true, true],
      // Nothing to play: no playback URLs at all.
      ['public', false, false],
      ['unlisted', false, false],
      ['private', false, false],
    ];
    for (const [visibility, playable, signs] of cases) {
      assert.equal(
        signsPlaybackUrls(video(visibility, playable)),
        signs,
        `${visibility}, playable ${playable}`,
      );
    }
  });

  it('lets only the owner or an admin edit or re-process, whatever the video', () => {
    for (const visibility of ['public', 'unlisted', 'private'] as const) {
      const v = video(visibility, true);
      assert.equal(canManage(v, callers.anonymous), false);
      assert.equal(canManage(v, callers.other), false);
      assert.equal(canManage(v, callers.owner), true);
      assert.equal(canManage(v, callers.admin), true);
    }
  });

  it('moves the access epoch exactly when fewer people may watch', () => {
    const cases: Array<[[Visibility, boolean], [Visibility, boolean], boolean]> = [
      [['public', true], ['unlisted', true], true],
      [['public', true], ['private', true], true],
      [['unlisted', true], ['private', true], true],
      [['public', true], ['public', false], true],
      [['unlisted', true], ['unlisted', false], true],
      [['private', true], ['private', false], false],
      [['private', true], ['unlisted', true], false],
      [['unlisted', true], ['public', true], false],
      [['public', false], ['public', true], false],
      [['public', false], ['private', false], false],
      [['public', true], ['public', true], false],
    ];
    for (const [[bv, bp], [av, ap], narrows] of cases) {
      assert.equal(
        narrowsAudience(video(bv, bp), video(av, ap)),
        narrows,
        `${bv}${bp ? '' : ' unplayable'} → ${av}${ap ? '' : ' unplayable'}`,
      );
    }
  });
});

describe('catalog access: hidden → published → access tier', () => {
  type Publication = AccessFacts['publication'];
  type Tier = AccessFacts['access_tier'];
  /**
   * Each cell: `404` (may not see it), `403` (sees it, lacks the membership its tier asks), or
   * `sees/<media access>`. The members hold that membership of the owner's channel.
   */
  type CatalogCell = '404' | '403' | `sees/${'public' | 'granted' | 'token'}`;
  type CatalogRow = [Publication, 'shown' | 'hidden', Tier, ...CatalogCell[]];
  const viewers = [
    ['anonymous', callers.anonymous, 0],
    ['other', callers.other, 0],
    ['subscriber', { userId: OTHER, sessionId: 's4', role: 'user' }, 1],
    ['premium', { userId: OTHER, sessionId: 's5', role: 'user' }, 2],
    ['owner', callers.owner, 0],
    ['admin', callers.admin, 0],
  ] as const;

  // biome-ignore format: a table reads best aligned
  const CATALOG: CatalogRow[] = [
    // publication   moderator tier  anonymous      other          subscriber     premium        owner           admin
    ['published',   'shown',  0,    'sees/public', 'sees/public', 'sees/public', 'sees/public', 'sees/public',  'sees/public'],
    ['published',   'shown',  1,    '403',         '403',         'sees/token',  'sees/token',  'sees/granted', 'sees/granted'],
    ['published',   'shown',  2,    '403',         '403',         '403',         'sees/token',  'sees/granted', 'sees/granted'],
    ['published',   'hidden', 0,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
    ['published',   'hidden', 1,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
    ['published',   'hidden', 2,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
    ['draft',       'shown',  0,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
    ['scheduled',   'shown',  0,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
    ['unpublished', 'shown',  0,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
    ['unpublished', 'shown',  2,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
    ['rejected',    'shown',  0,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
    ['rejected',    'hidden', 1,    '404',         '404',         '404',         '404',         'sees/granted', 'sees/granted'],
  ];

  for (const [publication, moderator, tier, ...cells] of CATALOG) {
    it(`${publication}, ${moderator}, tier ${tier}`, () => {
      const v = { ...video('public', true), publication, hidden: moderator === 'hidden', access_tier: tier };
      const got = viewers.map(([, principal, membership]) => {
        if (!canSee(v, principal)) return '404';
        if (tierDecision(v, principal, membership) !== 'allow') return '403';
        return `sees/${mediaAccessOf(v, principal)}`;
      });
      assert.deepEqual(got, cells, viewers.map(([name]) => name).join(', '));
    });
  }

  it('answers the code of the membership a tier asks for', () => {
    const v = (tier: Tier) => ({ ...video('public', true), access_tier: tier });
    assert.equal(tierDecision(v(1), callers.other, 0), 'MEMBERSHIP_REQUIRED');
    assert.equal(tierDecision(v(2), callers.other, 1), 'PREMIUM_REQUIRED');
    assert.equal(tierDecision(v(2), null, 0), 'PREMIUM_REQUIRED');
    assert.equal(tierDecision(v(1), callers.other, 2), 'allow');
  });

  it('signs the playback URLs of a members-only video, and moves the epoch when fewer may watch', () => {
    const base = video('public', true);
    assert.equal(signsPlaybackUrls({ ...base, access_tier: 1 }), true);
    assert.equal(signsPlaybackUrls({ ...base, publication: 'unpublished' }), true);
    const cases: Array<[Partial<AccessFacts>, Partial<AccessFacts>, boolean]> = [
      [{ publication: 'published' }, { publication: 'unpublished' }, true],
      [{ publication: 'published' }, { publication: 'rejected' }, true],
      [{ publication: 'unpublished' }, { publication: 'published' }, false],
      [{ hidden: false }, { hidden: true }, true],
      [{ hidden: true }, { hidden: false }, false],
      [{ access_tier: 0 }, { access_tier: 1 }, true],
      [{ access_tier: 1 }, { access_tier: 2 }, true],
      [{ access_tier: 2 }, { access_tier: 0 }, false],
    ];
    for (const [before, after, narrows] of cases) {
      assert.equal(
        narrowsAudience({ ...base, ...before }, { ...base, ...after }),
        narrows,
        `${JSON.stringify(before)} → ${JSON.stringify(after)}`,
      );
    }
  });
});

describe('media requests', () => {
  const current = 3;
  const outdated = 2;
  type Case = [
    string,
    ReturnType<typeof video>,
    keyof typeof callers,
    { epoch: number; token: PresentedToken },
    MediaDecision,
  ];
  const served = (audience: 'public' | 'private', onward: 'none' | 'presented' | 'fresh'): MediaDecision => ({
    serve: true,
    audience,
    onward,
  });
  const refused = (because: 'not_found' | 'token_rejected' | 'outdated'): MediaDecision => ({
    serve: false,
    because,
  });
  const cases: Case[] = [
    [
      'public: anyone',
      video('public', true),
      'anonymous',
      { epoch: current, token: 'absent' },
      served('public', 'none'),
    ],
    [
      'public: a bad token is ignored',
      video('public', true),
      'other',
      { epoch: current, token: 'rejected' },
      served('public', 'none'),
    ],
    [
      'public: an old URL',
      video('public', true),
      'anonymous',
      { epoch: outdated, token: 'absent' },
      refused('outdated'),
    ],
    [
      'unlisted without a token',
      video('unlisted', true),
      'anonymous',
      { epoch: current, token: 'absent' },
      refused('not_found'),
    ],
    [
      'unlisted with a bad token',
      video('unlisted', true),
      'other',
      { epoch: current, token: 'rejected' },
      refused('token_rejected'),
    ],
    [
      'unlisted with a token',
      video('unlisted', true),
      'anonymous',
      { epoch: current, token: 'valid' },
      served('private', 'presented'),
    ],
    [
      'unlisted with a token, old URL',
      video('unlisted', true),
      'anonymous',
      { epoch: outdated, token: 'valid' },
      refused('outdated'),
    ],
    [
      'unlisted, its owner',
      video('unlisted', true),
      'owner',
      { epoch: current, token: 'absent' },
      served('private', 'fresh'),
    ],
    [
      'unlisted, its owner, a bad token ignored',
      video('unlisted', true),
      'owner',
      { epoch: current, token: 'rejected' },
      served('private', 'fresh'),
    ],
    [
      'unlisted, its owner, old URL',
      video('unlisted', true),
      'owner',
      { epoch: outdated, token: 'absent' },
      refused('outdated'),
    ],
    [
      'private, an admin',
      video('private', true),
      'admin',
      { epoch: current, token: 'absent' },
      served('private', 'fresh'),
    ],
    [
      'private without a token',
      video('private', true),
      'other',
      { epoch: current, token: 'absent' },
      refused('not_found'),
    ],
    [
      'owner hidden, a token',
      video('unlisted', true, 'hidden'),
      'anonymous',
      { epoch: current, token: 'valid' },
      refused('not_found'),
    ],
    [
      'owner deleted, public',
      video('public', true, 'deleted'),
      'anonymous',
      { epoch: current, token: 'absent' },
      refused('not_found'),
    ],
    [
      'owner deleted, the owner',
      video('public', true, 'deleted'),
      'owner',
      { epoch: current, token: 'absent' },
      refused('not_found'),
    ],
    [
      'owner hidden, an admin',
      video('public', true, 'hidden'),
      'admin',
      { epoch: current, token: 'absent' },
      served('public', 'none'),
    ],
  ];
  for (const [name, v, caller, request, expected] of cases) {
    it(name, () => assert.deepEqual(decideMedia(v, callers[caller], request), expected));
  }
});
