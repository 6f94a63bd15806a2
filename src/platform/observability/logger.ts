import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** `auto`: human-readable lines on a terminal, JSON lines otherwise (a file, a pipe, a log collector). */
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LoggerOptions {
  format?: LogFormat;
  /** Where lines go; standard output when absent. */
  destination?: NodeJS.WritableStream;
  /** Whether that destination is a terminal, for `auto`; standard output's own answer when absent. */
  isTty?: boolean;
}

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

export function createLogger(level: string, name = 'vireo', opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { req: serializeRequest },
  };
  const isTty = opts.isTty ?? process.stdout.isTTY === true;
  if (logFormat(opts.format ?? 'auto', isTty) === 'json') {
    return opts.destination ? pino(options, opts.destination) : pino(options);
  }
  // A stream in this thread, not pino's worker-thread transport: `vireo` ends with process.exit(),
  // which would drop the lines a worker still holds.
  const stream = pretty({
    sync: true,
    colorize: isTty,
    destination: opts.destination ?? 1,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,area',
    messageFormat: '{if area}[{area}] {end}{msg}',
    singleLine: true,
  });
  return pino(options, stream);
}

export function logFormat(format: LogFormat, isTty: boolean): 'pretty' | 'json' {
  if (format === 'auto') return isTty ? 'pretty' : 'json';
  return format;
}

/**
 * Fastify's request fields, with secrets in the URL replaced: playback tokens ride in the query of media
 * URLs (`?token=`), and a token must not outlive its request in a log file.
 */
function serializeRequest(req: {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}) {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

// Query parameters that carry credentials, and anything shaped like a JWT anywhere in the URL.
const SECRET_PARAM = /([?&;](?:token|access_token|refresh_token|code|sig|signature|x-amz-[a-z-]+)=)[^&#;]*/gi;
const JWT = /eyJ[\w-]*\.[\w-]+\.[\w-]*/g;

export function redactUrl(url: string): string {
  if (!url.includes('=') && !url.includes('eyJ')) return url;
  return url.replace(SECRET_PARAM, '$1[redacted]').replace(JWT, '[redacted]');
}
