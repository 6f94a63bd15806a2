// Keeps every node's recommendation cache true to the catalog: each catalog event of a video (published,
// unpublished, edited, hidden, visibility changed, deleted, …) and each owner status change is turned,
// by one outbox subscriber, into a notification that every node hears and drops its entries on.

import { defineSubscriber, type Subscriber } from '../../platform/modules/define-module.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { type NotifyHub, publish } from '../../platform/realtime/notify-hub.ts';
import { userStatusChanged } from '../accounts/index.ts';
import { VIDEO_EVENTS } from '../videos/index.ts';
import { tagsOfVideo } from './catalog-repo.ts';
import type { RecommendationCache } from './recommendation-cache.ts';

export const CACHE_TOPIC = 'discovery.recommendations';

type Message = { video_id: string; tags: string[] } | { all: true };

export function invalidationSubscribers(): Subscriber[] {
  const perVideo = VIDEO_EVENTS.map((event) =>
    defineSubscriber({
      event,
      name: `discovery.recommendations.${event.type}`,
      handler: async ({ payload }, { tx }) => {
        const { video_id } = payload as { video_id: string };
        // Its tags now: lists it has just joined must drop too (those it left are found by each node).
        await publish(tx, CACHE_TOPIC, { video_id, tags: await tagsOfVideo(tx, video_id) } satisfies Message);
      },
      // A cache needs no event from before this node first ran.
      options: { from: 'latest' },
    }),
  );
  const owners = defineSubscriber({
    event: userStatusChanged,
    name: 'discovery.recommendations.owner_status',
    handler: async (_event, { tx }) => publish(tx, CACHE_TOPIC, { all: true } satisfies Message),
    options: { from: 'latest' },
  });
  return [...perVideo, owners];
}

/** On every node: drop what a notification names; drop everything when notifications may be lost. */
export function listenForChanges(hub: NotifyHub, cache: RecommendationCache, logger: Logger): void {
  hub.subscribe(CACHE_TOPIC, (data) => {
    const message = data as Message;
    const done = 'all' in message ? cache.dropAll() : cache.dropVideo(message.video_id, message.tags);
    done.catch((err) => logger.warn({ err }, 'recommendation cache drop failed'));
  });
  hub.onReset(() => cache.dropLocal());
}
