import { z } from 'zod';

export const videoIdParams = z.object({ id: z.uuid() });

export const videoStatus = z.enum(['uploading', 'uploaded', 'processing', 'playable', 'ready', 'failed']);
export const visibility = z.enum(['public', 'unlisted', 'private']);

export const CATEGORIES = [
  'music',
  'gaming',
  'education',
  'entertainment',
  'technology',
  'sports',
  'news',
  'food',
  'travel',
  'lifestyle',
] as const;
export const category = z.enum(CATEGORIES);
export const accessTier = z.union([z.literal(0), z.literal(1), z.literal(2)]);

export const processingDto = z
  .object({
    status: videoStatus,
    stage: z.string().nullable().describe('probing, encoding, packaging or thumbnails while processing'),
    percent: z.number().int().min(0).max(100),
    failure_code: z
      .string()
      .nullable()
      .optional()
      .describe(
        'Why processing failed: the source (FILE_EMPTY, FILE_CORRUPT, UNSUPPORTED_FORMAT, NO_VIDEO_STREAM, DURATION_TOO_LONG), a stage that refused it for good (ENCODING_FAILED, THUMBNAILS_FAILED, …), or PROCESSING_FAILED',
      ),
    failure_message: z
      .string()
      .nullable()
      .optional()
      .describe('Why, for a person; a failure inside the pipeline starts with its stage, e.g. "encoding: …"'),
  })
  .meta({ id: 'VideoProcessing' });

export const viewerStateDto = z
  .object({
    liked: z.boolean(),
    bookmarked: z.boolean().describe("In any of the viewer's collections (Watch later included)"),
    progress_s: z.number().nullable().describe('Where the viewer stopped watching, in seconds'),
    completed: z.boolean(),
  })
  .meta({ id: 'ViewerState' });

export const videoDto = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    channel: z
      .object({ id: z.uuid(), handle: z.string(), name: z.string() })
      .nullable()
      .describe("The owner's channel"),
    title: z.string(),
    description: z.string(),
    tags: z.array(z.string()).describe('Lower-case slugs'),
    category: category.nullable(),
    language: z.string().nullable(),
    status: videoStatus,
    publication: z
      .enum(['draft', 'scheduled', 'published', 'unpublished', 'rejected'])
      .describe('Whether its audience may see it; scheduled: at publish_at, once it can be watched'),
    publish_at: z.iso.datetime().nullable(),
    published_at: z.iso.datetime().nullable(),
    visibility,
    access_tier: accessTier,
    hidden: z.boolean().optional().describe('Hidden by a moderator (owner and admins only)'),
    moderation_reason: z.string().nullable().optional().describe('Owner and admins only'),
    views_count: z.number().int(),
    likes_count: z.number().int(),
    comments_count: z.number().int().describe('Comments and replies, deleted ones not counted'),
    comments_enabled: z.boolean().describe('False when the owner turned comments off'),
    viewer: viewerStateDto
      .nullable()
      .describe('What the signed-in caller did with this video; null for an anonymous caller'),
    thumbnail_time_s: z.number().nullable().describe('The frame chosen as its still, if one was'),
    thumbnail_url: z
      .string()
      .nullable()
      .describe('The thumbnail (uploaded or chosen frame), else the poster; null until playable'),
    created_at: z.iso.datetime(),
    ready_at: z.iso.datetime().nullable(),
    processing: processingDto,
    media: z
      .object({
        duration_s: z.number(),
        width: z.number().int(),
        height: z.number().int(),
        rotation: z.number().int(),
        fps: z.number(),
        video_codec: z.string(),
        pixel_format: z.string(),
        bit_rate: z.number().nullable(),
        has_audio: z.boolean(),
      })
      .nullable(),
    renditions: z.array(
      z.object({
        name: z.string(),
        width: z.number().int(),
        height: z.number().int(),
        fps: z.number(),
        bandwidth: z.number().int(),
        average_bandwidth: z.number().int(),
        codecs: z.string(),
      }),
    ),
    playback: z
      .object({
        hls: z.string(),
        dash: z.string(),
        poster: z.string(),
        storyboard_vtt: z.string(),
        expires_at: z.iso
          .datetime()
          .nullable()
          .describe(
            'When the playback tokens in these URLs stop working (a video that is not public); ' +
              'null for a public video, whose URLs need none',
          ),
      })
      .nullable()
      .describe('Media URLs once the video is playable'),
  })
  .meta({ id: 'Video' });

export const MAX_TAGS = 15;

/** A tag as a slug: lower case, letters and digits of any script, words joined by `-`. The curated tags
 * of discovery are slugs of the same rule, so a video's tags match them. */
export function tagSlug(tag: string): string {
  return tag
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{Nd}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

export const TAG_SLUG_MAX = 50;

const tag = z
  .string()
  .max(100)
  .transform(tagSlug)
  .pipe(
    z
      .string()
      .min(1, 'a tag needs a letter or digit')
      .max(TAG_SLUG_MAX, `a tag has at most ${TAG_SLUG_MAX} characters`),
  );

/** A video's editable fields; PUT and PATCH take any of them. */
export const videoPage = z
  .object({ items: z.array(videoDto), next_cursor: z.string().nullable() })
  .meta({ id: 'VideoPage' });

export const videoPatch = z
  .object({
    title: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(5000).optional(),
    tags: z
      .array(tag)
      .max(MAX_TAGS, `at most ${MAX_TAGS} tags`)
      .transform((tags) => [...new Set(tags)])
      .optional(),
    category: category.nullable().optional(),
    language: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$/, 'a language tag such as en, pt-BR or zh-Hant')
      .nullable()
      .optional()
      .describe('BCP 47 language tag (short form)'),
    visibility: visibility.optional(),
    access_tier: accessTier.optional().describe('0 everyone, 1 subscribers, 2 premium members'),
    thumbnail_time_s: z
      .number()
      .min(0)
      .nullable()
      .optional()
      .describe("The frame shown as the video's still, by its time; within the video's duration"),
    comments_enabled: z.boolean().optional().describe('false turns comments off: no new ones, none shown'),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'give at least one field', path: ['title'] });
export type VideoEdit = z.output<typeof videoPatch>;

export const publishBody = z.object({
  published: z.boolean().describe('true publishes (or schedules, with publish_at); false takes it down'),
  publish_at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('With published: true, a time in the future schedules the publication'),
});
