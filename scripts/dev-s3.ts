// `npm run dev:s3`: an S3-compatible server on this machine, to try Vireo's S3 driver without a cloud
// account. Objects live in DATA_DIR/s3 (default ./data/s3) and its key pair in DATA_DIR/s3-keys.json, so a
// restart keeps both. Prints the settings that point Vireo at it; Ctrl-C stops it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomS3Keys, startS3Server } from './lib/s3-server.ts';

const dataDir = path.resolve(process.env.DATA_DIR ?? 'data');
const port = Number(process.env.S3_DEV_PORT ?? 9000);
const keysFile = path.join(dataDir, 's3-keys.json');

async function keys(): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  try {
    return JSON.parse(await fs.readFile(keysFile, 'utf8'));
  } catch {
    const made = randomS3Keys();
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(keysFile, `${JSON.stringify(made)}\n`, { mode: 0o600 });
    return made;
  }
}

const server = await startS3Server({ directory: path.join(dataDir, 's3'), port, keys: await keys() });
const settings = Object.entries(server.env())
  .map(([name, value]) => `${name}=${value}`)
  .join(' ');
console.log(`A local S3 server answers at ${server.endpoint} (bucket "${server.bucket}").`);
console.log(`Start Vireo on it, in another terminal:\n\n  ${settings} npm start\n`);
console.log('Ctrl-C stops it; objects stay in', path.join(dataDir, 's3'));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
