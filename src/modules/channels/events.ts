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

export const CHANNEL_EVENTS = [channelCreated, channelUpdated, channelDeleted] as const;
