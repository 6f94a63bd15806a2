import { z } from 'zod';

export const videoIdParams = z.object({ id: z.uuid() });

export const videoStatus = z.enum(['uploading', 'uploaded', 'processing', 'playable', 'ready', 'failed']);
export const visibility = z.enum(['public', 'unlisted', 'private']);

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

export const videoDto = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    title: z.string(),
    description: z.string(),
    status: videoStatus,
    visibility,
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

export const videoPatch = z
  .object({
    title: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(5000).optional(),
    visibility: visibility.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'give at least one field', path: ['title'] });

export const publishBody = z.object({
  published: z.boolean().describe('true publishes (or schedules, with publish_at); false takes it down'),
  publish_at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('With published: true, a time in the future schedules the publication'),
});
