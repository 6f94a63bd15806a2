// A local S3 server in its own process (started by ../s3-server.ts): s3rver with the fixes of
// s3rver-fixes.ts. Prints `{"port":N}` once listening; exits when its standard input closes, so it
// never outlives the process that started it.
import http from 'node:http';
import { createRequire } from 'node:module';
import { AtomicFilesystemStore, RAW_PATH_HEADER, signRequestPathAsSent } from './s3rver-fixes.ts';

interface Options {
  directory: string;
  buckets: string[];
  accessKeyId: string;
  secretAccessKey: string;
  port: number;
}

interface S3rver {
  store: object;
  context: { store: object };
  configureBuckets(): Promise<void>;
  callback(): http.RequestListener;
}

const require = createRequire(import.meta.url);
const S3rver: new (options: object) => S3rver = require('@20minutes/s3rver');
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account.js');

const options: Options = JSON.parse(process.argv[2] ?? '{}');
signRequestPathAsSent();
DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
DUMMY_ACCOUNT.createKeyPair(options.accessKeyId, options.secretAccessKey);

const server = new S3rver({
  directory: options.directory,
  silent: true,
  // Virtual-host requests name the bucket as <bucket>.s3.localhost.
  serviceEndpoint: 'localhost',
  configureBuckets: options.buckets.map((name) => ({ name })),
});
server.store = server.context.store = new AtomicFilesystemStore(options.directory);
await server.configureBuckets();

const handle = server.callback();
const listener = http.createServer((req, res) => {
  req.headers[RAW_PATH_HEADER] = (req.url ?? '/').split('?')[0];
  handle(req, res);
});
listener.listen(options.port ?? 0, '127.0.0.1', () => {
  const address = listener.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' ? address?.port : null })}\n`);
});

process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
