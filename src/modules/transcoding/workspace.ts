// Scratch folders of processing runs under WORK_DIR, one per run of the job (its id and attempt are in the
// name, so no two runs ever share a folder). A run killed with its worker cannot clean up after itself:
// the next run of the same video on this machine, giving up on it, or the leftovers sweep of any worker
// sharing WORK_DIR (at start and after each liveness sweep) removes what it left.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { JobRun, RunningCheck } from '../../platform/jobs/definition.ts';

export interface WorkspaceRun extends JobRun {
  videoId: string;
  version: number;
}

const prefixOf = (videoId: string) => `process-${videoId}-`;
const NAME = /^process-([0-9a-f-]{36})-(\d+)-job(\d+)-(\d+)$/;

/** The folder of a run, empty; folders of other runs of that video on this machine are removed. */
export async function openWorkspace(workDir: string, run: WorkspaceRun): Promise<string> {
  await removeWorkspaces(workDir, run.videoId);
  const dir = path.join(workDir, `${prefixOf(run.videoId)}${run.version}-job${run.jobId}-${run.attempt}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** Removes every run folder of a video on this machine. */
export async function removeWorkspaces(workDir: string, videoId: string): Promise<void> {
  const prefix = prefixOf(videoId);
  for (const name of await entries(workDir)) {
    if (name.startsWith(prefix)) await fs.rm(path.join(workDir, name), { recursive: true, force: true });
  }
}

/** Removes the folders of runs that no live worker runs any more, wherever it is. */
export async function removeLeftWorkspaces(workDir: string, running: RunningCheck): Promise<void> {
  // Listed before asking: a folder seen here was made after its run was locked, so it is seen running.
  const folders = (await entries(workDir)).flatMap((name) => {
    const m = NAME.exec(name);
    return m ? [{ name, jobId: m[3]!, attempt: Number(m[4]) }] : [];
  });
  if (folders.length === 0) return;
  const live = await running(folders);
  for (const [i, folder] of folders.entries()) {
    if (!live[i]) await fs.rm(path.join(workDir, folder.name), { recursive: true, force: true });
  }
}

async function entries(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
}
