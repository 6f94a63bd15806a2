// Who may see what: every decision about a video's viewers, pure over the video, its owner's account
// status, the caller and what the caller presented. Services read the rows and act on the answers.
// The order is the catalog's: hidden → published → access tier → allow. Lists apply the same rule in SQL
// (`listing.ts`), and the tests hold the two together.
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { OwnerStatus, VideoRow } from './repo.ts';

/** What the decisions read of a video; `owner_status` is its owner's account status. */
export type AccessFacts = Pick<
  VideoRow,
  'owner_id' | 'visibility' | 'playback_version' | 'publication' | 'hidden' | 'access_tier'
> & {
  owner_status: OwnerStatus;
};

type AudienceFacts = Pick<VideoRow, 'visibility' | 'playback_version' | 'publication' | 'hidden'>;

/**
 * Who may see a video as its state says (the owner's status and the access tier aside), narrowest
 * first: its owner and admins only (hidden by a moderator, not published, private, or nothing playable
 * yet); whoever has its id; everyone.
 */
export const Audience = { Owner: 0, LinkHolders: 1, Everyone: 2 } as const;
export type Audience = (typeof Audience)[keyof typeof Audience];

export function audienceOf(v: AudienceFacts): Audience {
  if (v.hidden || v.publication !== 'published') return Audience.Owner;
  if (v.playback_version === null || v.visibility === 'private') return Audience.Owner;
  return v.visibility === 'public' ? Audience.Everyone : Audience.LinkHolders;
}

/**
 * A change that leaves fewer people able to watch: a narrower audience or a higher access tier. The
 * access epoch moves with it, so that no URL or playback token handed out before still plays, and open
 * streams check their viewer again.
 */
export function narrowsAudience(
  before: AudienceFacts & Pick<VideoRow, 'access_tier'>,
  after: AudienceFacts & Pick<VideoRow, 'access_tier'>,
): boolean {
  return audienceOf(after) < audienceOf(before) || after.access_tier > before.access_tier;
}

/**
 * `owner`: the owner or an admin, who see every video; `anyone`: whoever the video's audience lets in;
 * `none`: no one but an admin, because the owner's account is hidden or deleted.
 */
export type Viewer = 'owner' | 'anyone' | 'none';

export function viewerOf(
  video: Pick<AccessFacts, 'owner_id' | 'owner_status'>,
  principal: Principal | null,
): Viewer {
  if (principal?.role === 'admin') return 'owner';
  if (video.owner_status !== 'active') return 'none';
  return principal?.userId === video.owner_id ? 'owner' : 'anyone';
}

/**
 * Whether the caller may see the video at all (hidden → published → visibility); those who may not are
 * told it does not exist. Whether they may watch it is then the access tier's (`tierDecision`).
 */
export function canSee(video: AccessFacts, principal: Principal | null): boolean {
  const viewer = viewerOf(video, principal);
  return viewer === 'owner' || (viewer === 'anyone' && audienceOf(video) !== Audience.Owner);
}

/**
 * The caller's membership of the video's channel: 0 none, 1 subscriber, 2 premium member.
 */
export type MembershipTier = 0 | 1 | 2;

/**
 * The access tier, for a caller who may see the video: `allow`, or the code that says what it takes
 * (MEMBERSHIP_REQUIRED for tier 1, PREMIUM_REQUIRED for tier 2). Owners and admins need no membership.
 */
export type TierDecision = 'allow' | 'MEMBERSHIP_REQUIRED' | 'PREMIUM_REQUIRED';

export function tierDecision(
  video: Pick<AccessFacts, 'owner_id' | 'owner_status' | 'access_tier'>,
  principal: Principal | null,
  membership: MembershipTier,
): TierDecision {
  if (video.access_tier === 0 || viewerOf(video, principal) === 'owner') return 'allow';
  if (membership >= video.access_tier) return 'allow';
  return video.access_tier === 1 ? 'MEMBERSHIP_REQUIRED' : 'PREMIUM_REQUIRED';
}

/** Edits and re-processing: the owner or an admin. */
export function canManage(video: Pick<VideoRow, 'owner_id'>, principal: Principal | null): boolean {
  return !!principal && (principal.userId === video.owner_id || principal.role === 'admin');
}

/**
 * How the caller may fetch the video's media files: `public`, anyone may (shared caches too);
 * `granted`, this caller may (owner or admin, by their bearer token); `token`, only with a playback
 * token, handed out with the video's playback URLs to whoever may see it; `none`, not at all.
 */
export type MediaAccess = 'public' | 'granted' | 'token' | 'none';

export function mediaAccessOf(video: AccessFacts, principal: Principal | null): MediaAccess {
  const viewer = viewerOf(video, principal);
  if (viewer === 'none') return 'none';
  // Tokens are handed out only after the tier check, so members-only media needs one.
  if (audienceOf(video) === Audience.Everyone && video.access_tier === 0) return 'public';
  return viewer === 'owner' ? 'granted' : 'token';
}

/**
 * Whether the playback URLs handed out with a video carry playback tokens: whenever not everyone may
 * watch it. Whoever is handed them may see the video (`canSee`), so may watch it.
 */
export function signsPlaybackUrls(video: AudienceFacts & Pick<VideoRow, 'access_tier'>): boolean {
  return (
    video.playback_version !== null && (audienceOf(video) !== Audience.Everyone || video.access_tier > 0)
  );
}

/** The playback token that came with a media request, checked against that request's URL. */
export type PresentedToken = 'absent' | 'valid' | 'rejected';

export type MediaDecision =
  /**
   * `not_found`: the caller may not fetch it, and is told nothing exists (that an id belongs to a
   * private video is its owner's business only); `token_rejected`: the token presented is no good;
   * `outdated`: the URL is of another access epoch than the video's.
   */
  | { serve: false; because: 'not_found' | 'token_rejected' | 'outdated' }
  /**
   * `audience`: whether shared caches may keep it. `onward`: the token the URIs inside a playlist or
   * manifest get; the one presented goes on unchanged, so no one can stretch its life by fetching
   * playlists, and a caller let in by their bearer token (which cannot follow a player from playlist
   * to segment) gets a fresh one.
   */
  | { serve: true; audience: 'public' | 'private'; onward: 'none' | 'presented' | 'fresh' };

/** Whether a media file of the video is served for a URL of access epoch `epoch`. */
export function decideMedia(
  video: AccessFacts & Pick<VideoRow, 'access_epoch'>,
  principal: Principal | null,
  request: { epoch: number; token: PresentedToken },
): MediaDecision {
  const access = mediaAccessOf(video, principal);
  if (access === 'none') return { serve: false, because: 'not_found' };
  if (access === 'token') {
    if (request.token === 'absent') return { serve: false, because: 'not_found' };
    if (request.token === 'rejected') return { serve: false, because: 'token_rejected' };
  }
  // Only URLs of the current epoch: those handed out before fewer people could watch stop working.
  if (request.epoch !== video.access_epoch) return { serve: false, because: 'outdated' };
  if (access === 'public') return { serve: true, audience: 'public', onward: 'none' };
  return { serve: true, audience: 'private', onward: access === 'token' ? 'presented' : 'fresh' };
}
