// A video's life, as two explicit machines. Every change of `status` or `publication` goes through
// `transition`, which refuses what the tables do not list with 409 INVALID_STATE.
//
// Processing (the pipeline's): uploading → uploaded → processing → playable → ready, or failed; a run
// that fails and will be retried goes back to uploaded; re-processing starts again from uploaded.
//
// Publication (the owner's and moderators'): draft → published ⇄ unpublished; scheduled publishes once
// its `publish_at` has come and the video can be watched; a moderator rejects (and may reinstate it as
// unpublished). A video is published only once it can be watched (`playable` or `ready`): viewers then
// start seconds after the upload, as its owner does.
import { DomainError } from '../../platform/errors/domain-error.ts';
import type { Publication, VideoStatus } from './repo.ts';

export const PROCESSING: Record<VideoStatus, readonly VideoStatus[]> = {
  uploading: ['uploaded', 'failed'],
  uploaded: ['processing', 'playable', 'failed'],
  processing: ['playable', 'ready', 'failed', 'uploaded'],
  playable: ['playable', 'ready', 'failed', 'uploaded'],
  ready: ['uploaded'],
  failed: ['uploaded'],
};

export const PUBLICATION: Record<Publication, readonly Publication[]> = {
  draft: ['scheduled', 'published', 'rejected'],
  scheduled: ['scheduled', 'published', 'draft', 'unpublished', 'rejected'],
  published: ['unpublished', 'rejected'],
  unpublished: ['published', 'scheduled', 'rejected'],
  rejected: ['unpublished'],
};

export function canMove<S extends string>(table: Record<S, readonly S[]>, from: S, to: S): boolean {
  return from === to || table[from].includes(to);
}

/** Throws INVALID_STATE unless the table lets `from` become `to` (staying put is always allowed). */
export function transition<S extends string>(table: Record<S, readonly S[]>, from: S, to: S): S {
  if (!canMove(table, from, to)) {
    throw new DomainError('INVALID_STATE', `A video cannot go from ${from} to ${to}`);
  }
  return to;
}

/** Whether a video can be watched by anyone at all: a processing run made a version playable. */
export function isWatchable(v: { playback_version: number | null }): boolean {
  return v.playback_version !== null;
}

/** Whether a scheduled video publishes now. */
export function duePublication(
  v: { publication: Publication; publish_at: Date | null; playback_version: number | null },
  now: Date,
): boolean {
  return v.publication === 'scheduled' && v.publish_at !== null && v.publish_at <= now && isWatchable(v);
}

/** Deleting is for videos no one is watching: a published one is unpublished first. */
export function assertDeletable(v: { publication: Publication }): void {
  if (v.publication === 'published') throw new DomainError('VIDEO_NOT_UNPUBLISHED');
}

/**
 * Who sends a processing update: the job run (graphile job id) and when it sent it. The run that
 * claimed the video last (`startProcessing`) is the only one listened to, and only to updates newer
 * than the last applied.
 */
export interface ProcessingRun {
  jobId: string;
  emittedAt: Date;
}

/** Why an update was ignored: `stale_job`, another run claimed the video; `out_of_order`, too old. */
export type IgnoredUpdate = 'stale_job' | 'out_of_order';

/** Whether a processing update is applied; an update not from a run (a sweep, an upload) always is. */
export function judgeUpdate(
  v: { processing_job_id: string | null; processing_emitted_at: Date | null },
  run: ProcessingRun | undefined,
): 'apply' | IgnoredUpdate {
  if (!run) return 'apply';
  if (v.processing_job_id !== null && v.processing_job_id !== run.jobId) return 'stale_job';
  if (v.processing_emitted_at !== null && run.emittedAt < v.processing_emitted_at) return 'out_of_order';
  return 'apply';
}
