import pino, { type Logger } from 'pino';

export type { Logger };

/** Secrets never reach a log line: these paths are replaced wherever they appear. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.refresh_token',
  '*.access_token',
  'password',
];

export function createLogger(level: string, name = 'vireo'): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' } });
}
