// Starts ffmpeg and ffprobe so that they die with this process, and hands them the source file.
//
// A worker that is SIGKILLed cannot stop its media processes, and an orphaned encode runs on to its
// end, competing with the job's retry for the CPU; ffmpeg ignores the broken pipe of its `-progress`
// output, so that does not stop it. On Linux, util-linux's `setpriv --pdeathsig KILL` execs the tool
// with a parent-death signal: the kernel kills it as soon as the thread that spawned it (Node's main
// thread) is gone. Where setpriv is missing, a POSIX sh runs the tool beside a watchdog that reads a
// pipe from this process: the pipe ends when this process does, however it dies, and the watchdog
// kills the tool.
import { type ChildProcess, type StdioOptions, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { SOURCE_FD } from './source-input.ts';

export interface MediaProcessOptions {
  /** A file the tool reads as descriptor SOURCE_FD, named SOURCE_URL in its arguments. */
  source?: string;
  /**
   * Aborting kills the tool with SIGKILL: an abandoned run's output is thrown away, and SIGTERM would
   * have ffmpeg flush its encoders first (seconds with a slow preset), outliving a stopping worker.
   */
  signal?: AbortSignal;
}

// Fd 9 keeps the pipe from this process (stdin) for the watchdog: an asynchronous list of a
// non-interactive shell gets /dev/null as its stdin.
const WATCHDOG = `exec 9<&0
"$@" 9<&- &
tool=$!
(while read -r _ <&9; do :; done; kill -KILL "$tool" 2>/dev/null) &
watchdog=$!
wait "$tool"
status=$?
kill "$watchdog" 2>/dev/null
exit "$status"`;

let tether: 'setpriv' | 'watchdog' | undefined;

/** How media processes are tied to this one: `setpriv` where it works, the sh watchdog elsewhere. */
export function tetherKind(): 'setpriv' | 'watchdog' {
  tether ??=
    spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' }).status === 0
      ? 'setpriv'
      : 'watchdog';
  return tether;
}

export async function spawnMediaProcess(
  cmd: string,
  args: string[],
  opts: MediaProcessOptions = {},
): Promise<ChildProcess> {
  const source = opts.source ? await fs.open(opts.source, 'r') : undefined;
  try {
    const kind = tetherKind();
    const stdio: StdioOptions = [kind === 'watchdog' ? 'pipe' : 'ignore', 'pipe', 'pipe'];
    if (source) stdio[SOURCE_FD] = source.fd;
    const [file, argv] =
      kind === 'setpriv'
        ? ['setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args]]
        : ['/bin/sh', ['-c', WATCHDOG, 'vireo-media', cmd, ...args]];
    return spawn(file, argv, { stdio, signal: opts.signal, killSignal: 'SIGKILL' });
  } finally {
    // The child has its own copy of the descriptor once spawn returns.
    await source?.close();
  }
}
