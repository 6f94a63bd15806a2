// What a failed processing run leaves the video with. A failure that would happen again — the file
// itself, or ffmpeg refusing it — fails the video at once instead of being retried, with a code naming
// the stage where it happened; any other failure is retried, and its last attempt says the stage too.
import { type FailureCode, stageFailure } from '../../platform/errors/codes.ts';
import { FfmpegError } from '../../platform/media/ffmpeg-runner.ts';
import { ProbeError } from '../../platform/media/probe.ts';
import { SOURCE_URL } from '../../platform/media/source-input.ts';
import type { ProcessingStage } from '../videos/index.ts';

/** A failure that retrying cannot fix: the video is marked failed at once. */
export class MediaRejectedError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RunFailure {
  code: FailureCode;
  message: string;
}

// The machine, not the file: another attempt (or another worker) may well succeed.
const RESOURCE_TROUBLE =
  /No space left on device|Cannot allocate memory|Too many open files|Resource temporarily unavailable|Input\/output error/i;

/** The failure to mark the video with now, or null when another attempt could succeed. */
export function lastingFailure(err: unknown, stage: ProcessingStage, workDir: string): RunFailure | null {
  if (err instanceof MediaRejectedError || err instanceof ProbeError) {
    return { code: err.code, message: err.message };
  }
  // ffmpeg ran to its own end and refused: 126-127 is a tool that could not start, 128 and up (255
  // from ffmpeg itself) a tool stopped by a signal.
  if (
    err instanceof FfmpegError &&
    err.exitCode !== null &&
    err.exitCode > 0 &&
    err.exitCode < 126 &&
    !RESOURCE_TROUBLE.test(err.stderr)
  ) {
    return { code: stageFailure(stage), message: describe(err, stage, workDir) };
  }
  return null;
}

/** The failure of a run that was retried and failed on its last attempt. */
export function exhaustedFailure(err: unknown, stage: ProcessingStage, workDir: string): RunFailure {
  return {
    code: 'PROCESSING_FAILED',
    message: `${describe(err, stage, workDir)} (the owner can retry it)`,
  };
}

/** `stage: reason`, without the server's paths. */
function describe(err: unknown, stage: ProcessingStage, workDir: string): string {
  const reason = (err instanceof Error ? err.message : String(err))
    .replaceAll(`${workDir}/`, '')
    .replaceAll(workDir, '.')
    .replaceAll(SOURCE_URL, 'source');
  return `${stage}: ${reason}`.slice(0, 500);
}
