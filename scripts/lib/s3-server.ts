// A real S3-protocol server on this machine for tests, benchmarks and `npm run dev:s3`: s3rver (npm) in
// a child process, SigV4-authenticated with its own key pair, keeping objects in a temporary folder (or
// one that is given, which is kept).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PROCESS = path.join(import.meta.dirname, 's3-server', 'process.ts');

export interface LocalS3Server {
  /** Path-style endpoint: http://127.0.0.1:PORT/<bucket>/<key>. */
  endpoint: string;
  /**
   * Endpoint for virtual-host-style requests: http://s3.localhost:PORT, buckets at
   * <bucket>.s3.localhost:PORT (s3rver finds the bucket in the host name only below an `s3.` label).
   */
  vhostEndpoint: string;
  region: string;
  /** A bucket made at start. */
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Vireo's settings for this server (STORAGE_DRIVER=s3 ...). */
  env(opts?: { bucket?: string; pathStyle?: boolean; prefix?: string }): Record<string, string>;
  stop(): Promise<void>;
}

export interface S3ServerOptions {
  buckets?: string[];
  /** Where objects are kept; kept at stop. Default: a temporary folder, removed at stop. */
  directory?: string;
  /** Default: any free port. */
  port?: number;
  keys?: { accessKeyId: string; secretAccessKey: string };
}

export function randomS3Keys(): { accessKeyId: string; secretAccessKey: string } {
  return {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
}

export async function startS3Server(opts: S3ServerOptions = {}): Promise<LocalS3Server> {
  const temporary = !opts.directory;
  const directory = opts.directory ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'vireo-s3-')));
  if (opts.directory) await fs.mkdir(opts.directory, { recursive: true });
  const removeDirectory = () =>
    temporary ? fs.rm(directory, { recursive: true, force: true }) : Promise.resolve();
  const buckets = opts.buckets ?? ['vireo'];
  const { accessKeyId, secretAccessKey } = opts.keys ?? randomS3Keys();
  const child = spawn(
    process.execPath,
    [
      // s3rver encrypts listing continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
      '--openssl-legacy-provider',
      '--import',
      'tsx',
      PROCESS,
      JSON.stringify({ directory, buckets, accessKeyId, secretAccessKey, port: opts.port ?? 0 }),
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`local S3 server exited (${code}) before listening`)));
      readline.createInterface({ input: child.stdout! }).once('line', (line) => {
        const { port } = JSON.parse(line);
        if (typeof port === 'number') resolve(port);
        else reject(new Error(`local S3 server: ${line}`));
      });
    });
  } catch (err) {
    child.kill();
    await removeDirectory();
    throw err;
  }

  const server: LocalS3Server = {
    endpoint: `http://127.0.0.1:${port}`,
    vhostEndpoint: `http://s3.localhost:${port}`,
    region: 'us-east-1',
    bucket: buckets[0]!,
    accessKeyId,
    secretAccessKey,
    env({ bucket = server.bucket, pathStyle = true, prefix } = {}) {
      return {
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: pathStyle ? server.endpoint : server.vhostEndpoint,
        S3_REGION: server.region,
        S3_BUCKET: bucket,
        S3_ACCESS_KEY_ID: accessKeyId,
        S3_SECRET_ACCESS_KEY: secretAccessKey,
        S3_FORCE_PATH_STYLE: String(pathStyle),
        ...(prefix ? { S3_PREFIX: prefix } : {}),
      };
    },
    async stop() {
      // Closing its standard input ends it; a kill is the fallback.
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      await removeDirectory();
    },
  };
  return server;
}
