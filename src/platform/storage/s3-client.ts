// The S3 client of the S3 driver, set up for S3-compatible servers as well as AWS.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';

export interface S3ConnectionOptions {
  /** Absent: AWS S3 of the region. */
  endpoint?: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** `/<bucket>/<key>` on the endpoint's host, instead of `<bucket>.<endpoint host>/<key>`. */
  forcePathStyle: boolean;
}

/**
 * Names under `localhost` are the loopback address (RFC 6761 §6.3), as browsers treat them; the system
 * resolver often does not know them, and `<bucket>.localhost` is how virtual-host-style addressing
 * reaches a server on this machine.
 */
export const lookupLocalhost: LookupFunction = (hostname, options, callback) => {
  if (!hostname.toLowerCase().endsWith('.localhost')) return dns.lookup(hostname, options, callback);
  const address = options.family === 6 ? '::1' : '127.0.0.1';
  const family = options.family === 6 ? 6 : 4;
  if (options.all) {
    (callback as unknown as (err: null, addresses: dns.LookupAddress[]) => void)(null, [{ address, family }]);
  } else {
    callback(null, address, family);
  }
};

export function createS3Client(opts: S3ConnectionOptions): S3Client {
  return new S3Client({
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: opts.credentials,
    forcePathStyle: opts.forcePathStyle,
    // Since early 2025 the SDK adds CRC checksums to every upload and streams bodies as aws-chunked
    // with a trailer, which many S3-compatible servers refuse; checksums are sent only where the API
    // requires one (DeleteObjects). TLS guards the bytes in transit.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      // Segments are written many at once while a video is encoded.
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64, lookup: lookupLocalhost }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64, lookup: lookupLocalhost }),
      connectionTimeout: 10_000,
    },
  });
}
