// What services throw when a rule says no. It carries a code from the one table (codes.ts) and the
// fields at fault; the HTTP edge (platform/http/errors.ts) turns it into a problem+json answer.
import { ERROR_CODES, type ErrorCode } from './codes.ts';

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    /** `headers`: hints for the HTTP edge (Retry-After, Tus-Max-Size…), ignored elsewhere. */
    readonly extra: { fields?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
  }
}
