// Checks an error answer: RFC 9457 problem+json with Vireo's stable code and nothing internal in it.
import assert from 'node:assert/strict';
import type { ApiResponse } from './app.ts';

const INTERNALS = [
  /\bat .+\(.*:\d+:\d+\)/, // stack frame
  /\.ts:\d+/,
  /node_modules/,
  /\b(select|insert into|update|delete from)\b.+\b(from|values|set|where)\b/i,
  /duplicate key|violates|constraint|syntax error|relation "/i,
  /password_hash|\$argon2/,
];

/** Asserts status, problem+json content type, `code`, and that no stack trace or SQL leaks. */
export function assertProblem(res: ApiResponse, status: number, code: string): void {
  const text = JSON.stringify(res.body);
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.code, code, text);
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.title, 'string');
  assert.equal(typeof res.body.detail, 'string');
  assert.equal(res.body.type, `urn:vireo:problem:${code.toLowerCase().replaceAll('_', '-')}`);
  assert.equal(res.body.request_id, res.headers.get('x-request-id'));
  assert.equal(res.body.stack, undefined);
  for (const pattern of INTERNALS) assert.doesNotMatch(text, pattern);
}

/** The field names of a VALIDATION_FAILED answer, without repeats. */
export function badFields(res: ApiResponse): string[] {
  assertProblem(res, 400, 'VALIDATION_FAILED');
  assert.ok(Array.isArray(res.body.errors), 'errors[] is present');
  return [...new Set((res.body.errors as { field: string }[]).map((e) => e.field))].sort();
}
