/**
 * What code that writes log lines needs of a logger: any pino logger fits, and so does a request's
 * log (src/observability/request-log.ts), whose lines carry the request's id. The domain and the
 * Prove client take this, never the HTTP request, to write the lines of the request they serve.
 */
export interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
