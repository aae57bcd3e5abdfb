import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import { logContextFields } from './observability/log-context.js';

/**
 * One logger for the process. The redaction list is the last line of defence: code should never
 * put a secret in a log object in the first place, but a mistake there must not leak.
 */
export const REDACTED_KEYS = [
  'phoneNumber', 'authToken', 'accessToken', 'access_token', 'token', 'clientSecret', 'client_secret',
  'authorization', 'Authorization', 'apiKey', 'flowId', 'id', 'correlationId', 'deviceId', 'password',
];

/** LOG_FORMAT: one JSON object per line (for a log pipeline), or coloured lines for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export interface LoggerOptions {
  /** Unset: pretty in development when stdout is a terminal, JSON otherwise. */
  format?: LogFormat | undefined;
  production?: boolean;
  /** Where lines go (tests capture them); stdout by default. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(level: string, options: LoggerOptions | NodeJS.WritableStream = {}): Logger {
  const { format, production = false, destination } = 'write' in options ? { destination: options } : options;
  const pretty = format ? format === 'pretty' : !production && !destination && process.stdout.isTTY === true;
  return pino(
    {
      level,
      // With tracing on, the trace and span ids of whatever work wrote the line. A request's lines
      // carry its id through the request's own log (src/observability/request-log.ts).
      mixin: logContextFields,
      redact: {
        // pino's wildcard matches one level, so each depth we log objects at is listed.
        paths: [...REDACTED_KEYS, ...REDACTED_KEYS.flatMap((k) => [`*.${k}`, `*.*.${k}`]), 'req.headers.authorization', 'req.headers.cookie'],
        censor: '[redacted]',
      },
    },
    pretty ? prettyStream(destination ?? process.stdout) : (destination ?? process.stdout),
  );
}

/**
 * pino-pretty in this thread (no transport worker): development output, where a line that shows
 * up at once matters more than throughput. Loaded only when asked for.
 */
function prettyStream(destination: NodeJS.WritableStream): DestinationStream {
  const require = createRequire(import.meta.url);
  const pretty = require('pino-pretty') as typeof import('pino-pretty');
  return pretty({
    destination,
    colorize: destination === process.stdout && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    sync: true,
  });
}

export type { Logger };
