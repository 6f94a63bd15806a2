// Events the collections module emits, each in the transaction of the change.
import { z } from 'zod';
import { defineEvent } from '../../platform/events/event.ts';

const item = {
  collection_id: z.uuid(),
  owner_id: z.uuid(),
  video_id: z.uuid(),
  /** Whether the video is, after this change, in any of the owner's collections. */
  bookmarked: z.boolean(),
};

/** Aggregate: `<owner>:<video>`, so the changes of one viewer's bookmark of one video arrive in order. */
export const collectionItemAdded = defineEvent({
  type: 'collection.item_added',
  aggregate: 'bookmark',
  payload: z.object(item),
});
export const collectionItemRemoved = defineEvent({
  type: 'collection.item_removed',
  aggregate: 'bookmark',
  payload: z.object(item),
});

export const bookmarkAggregateId = (ownerId: string, videoId: string) => `${ownerId}:${videoId}`;
