// The HTTP edge of errors: a domain error (platform/errors) becomes an RFC 9457 problem, its status
// taken from the one code table.
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors/codes.ts';
import type { FieldError } from '../errors/domain-error.ts';

/** RFC 9457 problem details, plus Vireo's stable `code` and the fields at fault. */
export const problemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ description: 'Stable machine code, e.g. VALIDATION_FAILED' }),
    instance: z.string().optional(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof problemSchema>;

export function problemFor(code: ErrorCode, detail: string, fields?: FieldError[]): Problem {
  const { status, title } = ERROR_CODES[code];
  return {
    type: `urn:vireo:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    code,
    ...(fields?.length ? { errors: fields } : {}),
  };
}
