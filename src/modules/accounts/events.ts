// Events the accounts module emits.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

/** An administrator changed an account's status (hidden, deleted, or active again). */
export const userStatusChanged = defineEvent({
  type: 'user.status_changed',
  payload: z.object({ user_id: z.uuid(), status: z.enum(['active', 'hidden', 'deleted']) }),
});
