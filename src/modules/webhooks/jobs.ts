// The one job of webhooks: an attempt to deliver one delivery (retries enqueue the next attempt).
import { z } from 'zod';
import { declareJob } from '../../platform/jobs/catalogue.ts';

export const deliverWebhook = declareJob({
  name: 'webhooks.deliver',
  payload: z.object({
    delivery_id: z.uuid(),
    /** Asked for by a person (redeliver): one attempt, whatever the delivery's state. */
    manual: z.boolean(),
  }),
  // An attempt that throws (the database went away) is tried again by the queue; answers of the
  // endpoint are handled by the delivery's own schedule.
  maxAttempts: 5,
});
