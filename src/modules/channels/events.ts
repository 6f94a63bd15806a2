// Events the channels module emits, each in the transaction of the change it announces.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

const ref = { channel_id: z.uuid(), owner_id: z.uuid() };

/** A channel was made: with its owner's account, or again after its owner deleted the last one. */
export const channelCreated = defineEvent({
  type: 'channel.created',
  payload: z.object({ ...ref, handle: z.string() }),
});

/** Its page changed: `fields` names what (handle, name, description, monthly_fee, currency, avatar, banner). */
export const channelUpdated = defineEvent({
  type: 'channel.updated',
  payload: z.object({ ...ref, fields: z.array(z.string()) }),
});

/** The channel, its images and its videos are gone; the account stays. */
export const channelDeleted = defineEvent({
  type: 'channel.deleted',
  payload: z.object({ ...ref }),
});

/**
 * A viewer's membership changed: tier 1 = subscriber (free), 2 = premium, null = none. Emitted by
 * `setMembership` only when the tier really changed; aggregate: the channel.
 */
export const channelMembershipChanged = defineEvent({
  type: 'channel.membership_changed',
  payload: z.object({
    ...ref,
    user_id: z.uuid(),
    tier_before: z.union([z.literal(1), z.literal(2)]).nullable(),
    tier: z.union([z.literal(1), z.literal(2)]).nullable(),
  }),
});

export const CHANNEL_EVENTS = [channelCreated, channelUpdated, channelDeleted] as const;
