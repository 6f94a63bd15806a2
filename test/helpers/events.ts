// Waits until every event committed so far has reached its subscribers: what follows from a change in
// another module (a job enqueued, an access epoch moved) happens after the relay delivers its event.
// And emits an event as its module would, for the tests of what hears it.
import { uuidv7 } from 'uuidv7';
import { videoPublished } from '../../src/modules/videos/index.ts';
import { emit } from '../../src/platform/events/emit.ts';
import { outboxLag } from '../../src/platform/events/lag.ts';
import type { TestApp } from './app.ts';

export async function eventsDelivered(t: TestApp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await outboxLag(t.app.database.db)).pending > 0) {
    if (Date.now() > deadline) throw new Error(`events still undelivered after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Emits video.published for a video of `ownerId`, as the videos module does; answers the event id. */
export function publishVideo(t: TestApp, ownerId: string, videoId = uuidv7()): Promise<string> {
  return t.app.database.db.transaction().execute((tx) =>
    emit(
      tx,
      videoPublished.create({
        aggregateId: videoId,
        payload: {
          video_id: videoId,
          owner_id: ownerId,
          title: 'A hook',
          published_at: new Date().toISOString(),
        },
      }),
    ),
  );
}
