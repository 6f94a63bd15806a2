// Runs ffmpeg with `-progress pipe:1`, reporting progress and keeping the end of stderr for errors.
import { type MediaProcessOptions, spawnMediaProcess } from './media-process.ts';
import { ProgressParser, type ProgressUpdate } from './progress.ts';
import { mediaTools } from './tools.ts';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    /** ffmpeg's exit code; null when it did not run, was killed or was stopped. */
    readonly exitCode: number | null = null,
  ) {
    super(message);
  }
}

export interface RunFfmpegOptions extends MediaProcessOptions {
  onProgress?: (update: ProgressUpdate) => void;
  /** Killed after this long. */
  timeoutMs?: number;
}

export async function runFfmpeg(args: string[], opts: RunFfmpegOptions = {}): Promise<void> {
  const timeout = opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined;
  const signal = timeout && opts.signal ? AbortSignal.any([opts.signal, timeout]) : (timeout ?? opts.signal);
  const child = await spawnMediaProcess(mediaTools().ffmpeg, args, { source: opts.source, signal });
  return new Promise((resolve, reject) => {
    const parser = new ProgressParser();
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      for (const update of parser.push(chunk)) opts.onProgress?.(update);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (err) => reject(new FfmpegError(`ffmpeg could not run: ${err.message}`, stderr)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new FfmpegError(`ffmpeg exited with ${code ?? signal}: ${lastLine(stderr)}`, stderr, code));
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
}
