// The tus checksum extension: a PATCH may carry `Upload-Checksum: <algorithm> <base64 digest>` of its
// body. The digest is computed as the bytes pass to disk, and a body that does not match is cut off the
// file again before the answer (460), so the upload's offset stays what it was. @tus/server does not
// ship the extension; the expected digest travels from the route to the store in the request's async
// context, because tus hands the store only the body stream.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, type Hash } from 'node:crypto';
import { DomainError } from '../../platform/errors/domain-error.ts';

/** Digest sizes in bytes; sha1 is the one the tus specification requires. */
const ALGORITHMS = { sha1: 20, md5: 16, sha256: 32 } as const;
type Algorithm = keyof typeof ALGORITHMS;

/** The value of Tus-Checksum-Algorithm. */
export const CHECKSUM_ALGORITHMS = Object.keys(ALGORITHMS).join(',');

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const FIELD = 'Upload-Checksum';

export interface ExpectedChecksum {
  algorithm: Algorithm;
  digest: Buffer;
}

/** The checksum a request announces, or undefined without the header. */
export function parseChecksum(header: string | string[] | undefined): ExpectedChecksum | undefined {
  if (header === undefined) return undefined;
  const [name, value, ...rest] = String(header).trim().split(/\s+/);
  if (!name || !value || rest.length) throw malformed('must be "<algorithm> <base64 digest>"');
  const algorithm = name.toLowerCase();
  if (!Object.hasOwn(ALGORITHMS, algorithm)) {
    throw new DomainError(
      'CHECKSUM_ALGORITHM_UNSUPPORTED',
      `Upload-Checksum algorithm "${name.slice(0, 32)}" is not supported; use one of ${CHECKSUM_ALGORITHMS}`,
      {
        fields: [{ field: FIELD, message: `algorithm must be one of ${CHECKSUM_ALGORITHMS}` }],
        headers: { 'Tus-Checksum-Algorithm': CHECKSUM_ALGORITHMS },
      },
    );
  }
  const digest = Buffer.from(value, 'base64');
  if (!BASE64.test(value) || digest.length !== ALGORITHMS[algorithm as Algorithm]) {
    throw malformed(`the digest must be a base64 ${algorithm} digest`);
  }
  return { algorithm: algorithm as Algorithm, digest };
}

const expected = new AsyncLocalStorage<ExpectedChecksum>();

/** Runs `fn` (the tus handling of one request) with the checksum its body must match. */
export function withChecksum<T>(checksum: ExpectedChecksum | undefined, fn: () => T): T {
  return checksum ? expected.run(checksum, fn) : fn();
}

/** What the body being written must match, when its request announced a checksum. */
export function expectedChecksum(): ExpectedChecksum | undefined {
  return expected.getStore();
}

export function newHash(checksum: ExpectedChecksum): Hash {
  return createHash(checksum.algorithm);
}

export function mismatch(offset: number): DomainError {
  return new DomainError(
    'CHECKSUM_MISMATCH',
    'The body does not match Upload-Checksum; none of it was kept',
    {
      headers: { 'Upload-Offset': String(offset) },
    },
  );
}

function malformed(message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `Invalid Upload-Checksum: ${message}`, {
    fields: [{ field: FIELD, message }],
  });
}
