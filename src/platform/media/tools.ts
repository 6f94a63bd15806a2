// Locates ffmpeg/ffprobe (on PATH first; the npm-shipped binaries as a fallback) and runs them.
import { execFile, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

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

export function runTool(
  cmd: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}
