// What open streams listen to: a video's processing progress, and the moves that leave fewer people
// able to watch it.
import type { VideoRow, VideoStatus } from './repo.ts';

export interface ProgressEvent {
  status: VideoStatus;
  stage: string | null;
  percent: number;
  failure_code?: string | null;
  failure_message?: string | null;
}

export const videoTopic = (id: string) => `video:${id}`;
/** Fewer people may watch this video than before: streams opened earlier check their viewer again. */
export const videoAccessTopic = (id: string) => `video-access:${id}`;
/** The same for every video of one owner (hidden or deleted). */
export const ownerAccessTopic = (ownerId: string) => `owner-access:${ownerId}`;

export function toProgressEvent(v: VideoRow): ProgressEvent {
  return {
    status: v.status,
    stage: v.processing_stage,
    percent: v.processing_percent,
    failure_code: v.failure_code,
    failure_message: v.failure_message,
  };
}
