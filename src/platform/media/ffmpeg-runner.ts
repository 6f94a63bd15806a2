// Runs ffmpeg with `-progress pipe:1`, reporting progress and keeping the end of stderr for errors.
import { spawn } from 'node:child_process';
import { ProgressParser, type ProgressUpdate } from './progress.ts';
import { mediaTools } from './tools.ts';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface RunFfmpegOptions {
  onProgress?: (update: ProgressUpdate) => void;
  signal?: AbortSignal;
}

export function runFfmpeg(args: string[], opts: RunFfmpegOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(mediaTools().ffmpeg, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: opts.signal,
      // An aborted run's output is thrown away: SIGTERM would have ffmpeg flush its encoders first
      // (seconds with a slow preset), outliving a worker that is shutting down.
      killSignal: 'SIGKILL',
    });
    const parser = new ProgressParser();
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const update of parser.push(chunk)) opts.onProgress?.(update);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (err) => reject(new FfmpegError(`ffmpeg could not run: ${err.message}`, stderr)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new FfmpegError(`ffmpeg exited with ${code ?? signal}: ${lastLine(stderr)}`, stderr));
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
}
