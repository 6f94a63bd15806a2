// tus's refusals as Vireo problems, in one place. @tus/server throws entries of its ERRORS table (status
// and plain text) from its handlers, and writes a few answers itself before any handler runs (invalid
// headers); each becomes the DomainError it means, keeping the status the tus protocol fixes (404, 409,
// 410, 412, 413, 460).
import { ERRORS } from '@tus/server';
import type { ErrorCode } from '../../platform/errors/codes.ts';
import { DomainError, type FieldError } from '../../platform/errors/domain-error.ts';

interface TusError {
  status_code: number;
  body: string;
}

/**
 * The size rule of a PATCH to an upload whose length is not known yet (creation-defer-length): the bytes
 * reserved for it are the most it may hold, and going past them answers `tooLarge`.
 */
export interface DeferredLimit {
  bytes: number;
  tooLarge: DomainError;
  /** The PATCH declares the length itself: from then on its body is held to that length. */
  declaresLength: boolean;
}

const FIXED = new Map<TusError, () => DomainError>([
  [ERRORS.MISSING_OFFSET, () => offsetInvalid('is required')],
  [ERRORS.INVALID_OFFSET, () => new DomainError('UPLOAD_OFFSET_MISMATCH')],
  [ERRORS.INVALID_CONTENT_TYPE, () => new DomainError('UNSUPPORTED_MEDIA_TYPE')],
  [ERRORS.FILE_NOT_FOUND, () => new DomainError('UPLOAD_NOT_FOUND', 'No such upload')],
  [ERRORS.FILE_NO_LONGER_EXISTS, () => new DomainError('UPLOAD_GONE')],
  [ERRORS.INVALID_TERMINATION, () => new DomainError('UPLOAD_FINISHED')],
  [ERRORS.ERR_LOCK_TIMEOUT, () => new DomainError('UPLOAD_LOCKED')],
  [ERRORS.ABORTED, () => new DomainError('UPLOAD_INTERRUPTED')],
  [
    ERRORS.INVALID_LENGTH,
    () =>
      invalid(
        'Upload-Length',
        'must be given once, as a whole number no smaller than the offset, or deferred with Upload-Defer-Length: 1',
      ),
  ],
  [
    ERRORS.INVALID_METADATA,
    () => invalid('Upload-Metadata', 'must be comma-separated "key base64value" pairs'),
  ],
  [ERRORS.UNSUPPORTED_CONCATENATION_EXTENSION, () => unsupported('concatenation')],
  [ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION, () => unsupported('creation-defer-length')],
  [ERRORS.UNSUPPORTED_EXPIRATION_EXTENSION, () => unsupported('expiration')],
]);

/**
 * The problem a refusal raised inside tus stands for, or undefined for a failure of ours (a write that
 * failed, an unknown error), which is answered as an internal error.
 */
export function problemOfTusError(raised: unknown, limit?: DeferredLimit): DomainError | undefined {
  if (raised instanceof DomainError) return raised;
  if (typeof raised !== 'object' || raised === null || !('status_code' in raised)) return undefined;
  const tusError = raised as TusError;
  const known = FIXED.get(tusError);
  if (known) return known();
  // A declared length over the limit.
  if (tusError === ERRORS.ERR_MAX_SIZE_EXCEEDED)
    return limit?.tooLarge ?? new DomainError('UPLOAD_TOO_LARGE');
  // A body over the limit: tus's own check, or its stream limiter's Error carrying the text above.
  const bodyTooLong =
    tusError === ERRORS.ERR_SIZE_EXCEEDED ||
    (raised instanceof Error && tusError.body === ERRORS.ERR_MAX_SIZE_EXCEEDED.body);
  if (bodyTooLong) {
    // While the length is unknown, the body is held to the bytes reserved; once known, to the length.
    return limit && !limit.declaresLength ? limit.tooLarge : new DomainError('UPLOAD_LENGTH_EXCEEDED');
  }
  return tusError.status_code < 500 ? byStatus(tusError.status_code, tusError.body) : undefined;
}

/** The problem an error answer that tus wrote itself stands for (its header checks). */
export function problemOfTusAnswer(status: number, text: string): DomainError {
  const invalidHeaders = /^Invalid (.+)$/.exec(text.trim());
  if (status === 400 && invalidHeaders) {
    const names = invalidHeaders[1]!.split(' ').map(headerName);
    if (names.length === 1 && names[0] === 'Upload-Offset') return offsetInvalid('must be a whole number');
    return new DomainError('VALIDATION_FAILED', `Invalid ${names.join(', ')}`, {
      fields: names.map((field) => ({ field, message: 'is not valid here' })),
    });
  }
  if (status === 412) return new DomainError('TUS_VERSION_UNSUPPORTED');
  return byStatus(status, text);
}

export function offsetInvalid(message: string): DomainError {
  return new DomainError('UPLOAD_OFFSET_INVALID', `Upload-Offset ${message}`, {
    fields: [{ field: 'Upload-Offset', message }],
  });
}

export function invalid(field: string, message: string): DomainError {
  const fields: FieldError[] = [{ field, message }];
  return new DomainError('VALIDATION_FAILED', `Invalid ${field}: ${message}`, { fields });
}

export function unsupported(extension: string): DomainError {
  return new DomainError('TUS_EXTENSION_UNSUPPORTED', `The tus ${extension} extension is not supported`);
}

/** A refusal tus may add in a later version: the nearest code of the same status, its text as detail. */
function byStatus(status: number, text: string): DomainError {
  const codes: Record<number, ErrorCode> = {
    404: 'UPLOAD_NOT_FOUND',
    409: 'UPLOAD_OFFSET_MISMATCH',
    410: 'UPLOAD_GONE',
    412: 'TUS_VERSION_UNSUPPORTED',
    413: 'UPLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    423: 'UPLOAD_LOCKED',
  };
  return new DomainError(codes[status] ?? 'MALFORMED_REQUEST', text.trim() || undefined);
}

/** upload-offset → Upload-Offset, as clients spell it. */
function headerName(lower: string): string {
  return lower
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('-');
}
