/** The slice of pino the adapter uses; any pino logger fits. Never pass bodies, tokens or phone numbers to it. */
export interface ProveLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
