import { type PlaybackSigner, thumbnailUrl } from '../videos/index.ts';
import { imageUrl } from './images.ts';
import type { ChannelRow, ChannelVideoRow } from './repo.ts';
import type { MembershipTier } from './service.ts';

const TIERS = ['none', 'subscriber', 'premium'] as const;

export function toChannelDto(
  c: ChannelRow,
  counts: { subscribers: number; premium: number; videos: number },
  tier: MembershipTier,
) {
  return {
    id: c.id,
    owner_id: c.owner_id,
    handle: c.handle,
    name: c.name,
    description: c.description,
    avatar_url: imageUrl(c.avatar_key),
    banner_url: imageUrl(c.banner_key),
    monthly_fee: c.monthly_fee,
    currency: c.currency,
    subscriber_count: counts.subscribers,
    premium_count: counts.premium,
    membership_tier: TIERS[tier],
    video_count: counts.videos,
    created_at: c.created_at.toISOString(),
  };
}

/**
 * Listed videos are public (listable), so their posters are too, except members-only ones: their media
 * needs a playback token, as it does when the video itself is fetched.
 */
export function toChannelVideoDto(v: ChannelVideoRow, signer: PlaybackSigner) {
  let thumbnail = thumbnailUrl(v);
  if (thumbnail && v.playback_version !== null && v.access_tier > 0) {
    const scope = { id: v.id, version: v.playback_version, epoch: v.access_epoch };
    thumbnail = `${thumbnail}?token=${signer.grant(scope).image}`;
  }
  return {
    id: v.id,
    title: v.title,
    duration_s: v.duration_s,
    thumbnail_url: thumbnail,
    views_count: Number(v.views_count),
    access_tier: v.access_tier,
    published_at: v.published_at.toISOString(),
  };
}
