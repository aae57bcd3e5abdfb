import { pino, type Logger } from 'pino';

/**
 * One logger for the process. The redaction list is the last line of defence: code should never
 * put a secret in a log object in the first place, but a mistake there must not leak.
 */
export const REDACTED_KEYS = [
  'phoneNumber', 'authToken', 'accessToken', 'access_token', 'token', 'clientSecret', 'client_secret',
  'authorization', 'Authorization', 'apiKey', 'flowId', 'id', 'correlationId', 'deviceId', 'password',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: {
        // pino's wildcard matches one level, so each depth we log objects at is listed.
        paths: [...REDACTED_KEYS, ...REDACTED_KEYS.flatMap((k) => [`*.${k}`, `*.*.${k}`]), 'req.headers.authorization', 'req.headers.cookie'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}

export type { Logger };
