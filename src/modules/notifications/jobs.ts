// The jobs notifications enqueue: one slice of a fan-out, and the Web Push of the notifications one
// statement stored.
import { z } from 'zod';
import { declareJob } from '../../platform/jobs/catalogue.ts';
import { NOTIFICATION_TYPES } from './kinds.ts';

const range = z.object({ after: z.uuid().nullable(), upto: z.uuid().nullable() });

export const fanOutJob = declareJob({
  name: 'notifications.fan_out',
  payload: z.object({
    source_id: z.string().min(1),
    audience: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('channel'),
        channel_id: z.uuid(),
        min_tier: z.union([z.literal(1), z.literal(2)]),
        exclude_user_id: z.uuid(),
      }),
      z.object({ kind: z.literal('everyone') }),
    ]),
    notification: z.object({
      type: z.enum(NOTIFICATION_TYPES),
      actor_id: z.uuid().nullable(),
      video_id: z.uuid().nullable(),
      channel_id: z.uuid().nullable(),
      data: z.record(z.string(), z.unknown()),
    }),
    /** The slice of the audience this job stores. */
    range,
  }),
  // Each slice is one statement that skips what is already stored: a retry is safe.
  maxAttempts: 10,
});

export const pushJob = declareJob({
  name: 'notifications.push',
  payload: z.object({
    source_id: z.string().min(1),
    /** The recipients of one event, or a slice of a fan-out. */
    user_ids: z.array(z.uuid()).optional(),
    range: range.optional(),
  }),
  // Push services' answers are handled per subscription; the job fails only when the database does.
  maxAttempts: 3,
});
