// What becomes of a video whose processing job will never run again: it is failed with a reason instead
// of staying `processing` forever, and what its last run left is removed first.
import type { Config } from '../../config.ts';
import type { GiveUpReason } from '../../platform/jobs/definition.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import { type VideoStatus, type VideosService, versionFolder } from '../videos/index.ts';
import { removeWorkspaces } from './workspace.ts';

export interface GiveUpDeps {
  videos: VideosService;
  store: ObjectStore;
  media: Pick<Config['media'], 'workDir'>;
}

/** States a video waits in while a processing job is pending or running. */
const UNFINISHED: VideoStatus[] = ['uploaded', 'processing', 'playable'];

const MESSAGES: Record<GiveUpReason['cause'], string> = {
  worker_lost: 'Processing stopped: the worker running it went away; the owner can retry it',
  error: 'Processing failed; the owner can retry it',
};

export async function giveUpProcessing(deps: GiveUpDeps, videoId: string, reason: GiveUpReason) {
  const video = await deps.videos.get(videoId);
  // Ready, or already failed by the run itself: nothing was left half done.
  if (!video || !UNFINISHED.includes(video.status)) return;
  // Clean up before the final state is announced: whoever hears `failed` finds nothing left over.
  // Only this machine's scratch space can be reached; another machine's goes with its next run there.
  await removeWorkspaces(deps.media.workDir, videoId);
  await deps.store.deletePrefix(versionFolder(videoId, video.media_version));
  await deps.videos.runs.markFailed(videoId, 'PROCESSING_FAILED', MESSAGES[reason.cause]);
}
