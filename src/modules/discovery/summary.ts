// What lists of videos show (search, recommendations): a summary, small enough to cache by the thousand.
import { sql } from 'kysely';
import { z } from 'zod';
import { type PlaybackSigner, signedImageUrl, thumbnailUrl } from '../videos/index.ts';

export const videoSummaryDto = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    title: z.string(),
    tags: z.array(z.string()),
    category: z.string().nullable(),
    language: z.string().nullable(),
    duration_s: z.number().nullable(),
    access_tier: z.number().int().min(0).max(2),
    published_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    views_count: z.number().int(),
    thumbnail_url: z
      .string()
      .nullable()
      .describe("The video's thumbnail, else its poster; members-only videos' carry a token"),
  })
  .meta({ id: 'VideoSummary' });

export type VideoSummary = z.infer<typeof videoSummaryDto>;

/** The select list of a summary over `videos v left join video_stats s`. */
export const summaryColumns = sql`v.id, v.owner_id, v.title, v.tags, v.category, v.language,
  v.access_tier, v.published_at, v.created_at, (v.media_info ->> 'durationS')::float8 as duration_s,
  coalesce(s.views_total, 0)::int8 as views_count, v.playback_version, v.access_epoch, v.thumbnail_key`;

export interface SummaryRow {
  id: string;
  owner_id: string;
  title: string;
  tags: string[];
  category: string | null;
  language: string | null;
  access_tier: number;
  published_at: Date | null;
  created_at: Date;
  duration_s: number | null;
  views_count: number;
  playback_version: number | null;
  access_epoch: number;
  thumbnail_key: string | null;
}

export function toSummary(r: SummaryRow): VideoSummary {
  return {
    id: r.id,
    owner_id: r.owner_id,
    title: r.title,
    tags: r.tags,
    category: r.category,
    language: r.language,
    duration_s: r.duration_s,
    access_tier: r.access_tier,
    published_at: r.published_at?.toISOString() ?? null,
    created_at: r.created_at.toISOString(),
    views_count: r.views_count,
    // Without a token: summaries are cached; signSummary adds one as they are answered.
    thumbnail_url: thumbnailUrl(r),
  };
}

/** A summary as answered: members-only videos' thumbnails carry a playback token, as channels' do. */
export function signSummary<S extends VideoSummary>(s: S, signer: PlaybackSigner): S {
  // `?? null`: a summary cached (in Redis) before summaries had thumbnails.
  const url = s.thumbnail_url ?? null;
  return { ...s, thumbnail_url: s.access_tier > 0 && url ? signedImageUrl(url, signer) : url };
}
