// Keeps every node's recommendation cache true to the catalog: each catalog event of a video (published,
// unpublished, edited, hidden, visibility changed, deleted, …) and each owner status change is turned,
// by one outbox subscriber, into a notification that every node hears and drops its entries on.

import type { Tx } from '../../platform/db/database.ts';
import type { DeliveredEvent } from '../../platform/events/event.ts';
import { defineSubscriber, type Subscriber } from '../../platform/modules/define-module.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { type NotifyHub, publish } from '../../platform/realtime/notify-hub.ts';
import { userStatusChanged } from '../accounts/index.ts';
import { VIDEO_EVENTS } from '../videos/index.ts';
import { tagsOfVideo } from './catalog-repo.ts';
import type { RecommendationCache } from './recommendation-cache.ts';

export const CACHE_TOPIC = 'discovery.recommendations';

type Message = { video_id: string; tags: string[] } | { all: true };

const CATALOG_TYPES = new Set<string>(VIDEO_EVENTS.map((e) => e.type));

export function invalidationSubscribers(): Subscriber[] {
  // One subscriber for every video event (one relay loop and connection, not eight); those that change
  // nothing a list shows (an upload, a reprocessing request) are passed over.
  const videos: Subscriber = {
    event: 'video.*',
    name: 'discovery.recommendations.videos',
    handler: async (event: DeliveredEvent<{ video_id?: string }>, { tx }: { tx: Tx }) => {
      const videoId = event.payload.video_id;
      if (!CATALOG_TYPES.has(event.type) || !videoId) return;
      // Its tags now: lists it has just joined must drop too (those it left are found by each node).
      await publish(tx, CACHE_TOPIC, {
        video_id: videoId,
        tags: await tagsOfVideo(tx, videoId),
      } satisfies Message);
    },
    // A cache needs no event from before this node first ran.
    options: { from: 'latest' },
  };
  const owners = defineSubscriber({
    event: userStatusChanged,
    name: 'discovery.recommendations.owner_status',
    handler: async (_event, { tx }) => publish(tx, CACHE_TOPIC, { all: true } satisfies Message),
    options: { from: 'latest' },
  });
  return [videos, owners];
}

/** On every node: drop what a notification names; drop everything when notifications may be lost. */
export function listenForChanges(
  hub: NotifyHub,
  cache: RecommendationCache,
  searches: { clear(): void },
  logger: Logger,
): void {
  hub.subscribe(CACHE_TOPIC, (data) => {
    const message = data as Message;
    // Any change may move any search's answer.
    searches.clear();
    const done = 'all' in message ? cache.dropAll() : cache.dropVideo(message.video_id, message.tags);
    done.catch((err) => logger.warn({ err }, 'recommendation cache drop failed'));
  });
  hub.onReset(() => {
    searches.clear();
    cache.dropLocal();
  });
}
