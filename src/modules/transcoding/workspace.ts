// Scratch folders of processing runs, one per run under WORK_DIR, named for the video and its run. A run
// killed with its worker never cleans up after itself: the next run of the same video, or giving up on
// it, removes what it left.
import fs from 'node:fs/promises';
import path from 'node:path';

const prefixOf = (videoId: string) => `process-${videoId}-`;

/** The folder of run `version` of a video, empty; folders of earlier runs of that video are removed. */
export async function openWorkspace(workDir: string, videoId: string, version: number): Promise<string> {
  await removeWorkspaces(workDir, videoId);
  const dir = path.join(workDir, `${prefixOf(videoId)}${version}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** Removes every run folder of a video on this machine. */
export async function removeWorkspaces(workDir: string, videoId: string): Promise<void> {
  const entries = await fs.readdir(workDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const prefix = prefixOf(videoId);
  for (const name of entries) {
    if (name.startsWith(prefix)) await fs.rm(path.join(workDir, name), { recursive: true, force: true });
  }
}
