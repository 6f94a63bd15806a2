// Server-Sent Events for a video's processing: progress events while it runs, then one final `ready`
// or `failed` event and the end of the stream. Fed by the NotifyHub, so any node can serve it. The
// stream also ends as soon as its viewer may no longer see the video (made private, owner hidden).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyHub } from '../../platform/realtime/notify-hub.ts';
import type { SseStreams } from '../../platform/realtime/sse.ts';
import type { VideoRow } from './repo.ts';
import { type ProgressEvent, toProgressEvent, videoTopic } from './topics.ts';

export interface VideoEventsSource {
  current: () => Promise<VideoRow | undefined>;
  /** Rejects when the viewer may no longer see the video. */
  recheck: () => Promise<unknown>;
  /** Topics announcing that fewer people may see the video: each notice runs `recheck`. */
  accessTopics: string[];
}

export function streamVideoEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  hub: NotifyHub,
  { current, recheck, accessTopics }: VideoEventsSource,
  streams: SseStreams,
): void {
  let checking = false;
  const checkAccess = () => {
    if (stream.closed || checking) return;
    checking = true;
    recheck().then(
      () => {
        checking = false;
      },
      () => stream.close(),
    );
  };
  // Each heartbeat checks again too, should a notice have been lost with the hub's connection.
  const stream = streams.open(request, reply, { onHeartbeat: checkAccess });
  let lastPercent = -1;
  let lastStage: string | null = null;
  let lastStatus: string | null = null;
  const send = (e: ProgressEvent) => {
    if (stream.closed) return;
    const final = e.status === 'ready' || e.status === 'failed';
    // Progress never goes backwards within a stream (a late notification can arrive after a newer one).
    // Each stage counts from 0 again; within a stage, percent only rises.
    if (e.stage !== lastStage || e.status !== lastStatus) lastPercent = -1;
    if (!final && e.percent < lastPercent) return;
    // `playable` once, when the video can be watched while it is still processed.
    const name = final
      ? e.status
      : e.status === 'playable' && lastStatus !== 'playable'
        ? 'playable'
        : 'progress';
    lastPercent = Math.max(lastPercent, e.percent);
    lastStage = e.stage;
    lastStatus = e.status;
    stream.send(name, e);
    if (final) stream.close();
  };
  // Subscribe before reading the current state, so nothing falls between the two.
  const { id } = request.params as { id: string };
  const unsubscribe = hub.subscribe(videoTopic(id), (data) => send(data as ProgressEvent));
  const unsubscribeAccess = accessTopics.map((topic) => hub.subscribe(topic, checkAccess));
  stream.onClose(() => {
    unsubscribe();
    for (const stop of unsubscribeAccess) stop();
  });
  current().then(
    (v) => (v ? send(toProgressEvent(v)) : stream.close()),
    () => stream.close(),
  );
}
