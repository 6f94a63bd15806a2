// Locates ffmpeg/ffprobe (on PATH first; the npm-shipped binaries as a fallback) and runs them.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { type MediaProcessOptions, spawnMediaProcess } from './media-process.ts';

const require = createRequire(import.meta.url);

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}

let cached: MediaTools | undefined;

/** Explicit paths from configuration win over the search below. */
export function configureMediaTools(paths: Partial<MediaTools>): void {
  cached = undefined;
  explicit = paths;
}

let explicit: Partial<MediaTools> = {};

export function mediaTools(): MediaTools {
  cached ??= {
    ffmpeg: explicit.ffmpeg ?? locate('ffmpeg', '@ffmpeg-installer/ffmpeg'),
    ffprobe: explicit.ffprobe ?? locate('ffprobe', '@ffprobe-installer/ffprobe'),
  };
  return cached;
}

function locate(name: string, npmPackage: string): string {
  const onPath = spawnSync(name, ['-version'], { stdio: 'ignore' });
  if (onPath.status === 0) return name;
  try {
    return (require(npmPackage) as { path: string }).path;
  } catch {
    throw new Error(
      `${name} not found: install it (apt-get install ffmpeg) or the npm package ${npmPackage}`,
    );
  }
}

export interface RunToolOptions extends MediaProcessOptions {
  timeoutMs?: number;
}

/** Runs a tool to its end, answering its output; fails with the output attached. */
export async function runTool(
  cmd: string,
  args: string[],
  opts: RunToolOptions | number = {},
): Promise<{ stdout: string; stderr: string }> {
  const { timeoutMs = 60_000, ...rest } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = rest.signal ? AbortSignal.any([rest.signal, timeout]) : timeout;
  const child = await spawnMediaProcess(cmd, args, { ...rest, signal });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr = (stderr + c).slice(-64 * 1024);
    });
    child.on('error', (err) => reject(Object.assign(err, { stdout, stderr })));
    child.on('close', (code, sig) => {
      if (code === 0) return resolve({ stdout, stderr });
      const err = new Error(`${cmd} exited with ${code ?? sig}: ${stderr.trim().slice(-300)}`);
      reject(Object.assign(err, { stdout, stderr, exitCode: code, exitSignal: sig }));
    });
  });
}
