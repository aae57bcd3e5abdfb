import type { Logger } from 'pino';
import type { Log } from '../lib/log.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * The log of one request (an HTTP request, a graphql-ws operation): the process logger's lines
 * with `requestId`, handed down to whatever writes during that request (the GraphQL context, the
 * flow service, the Prove calls), so no code has to find out which request it runs for.
 *
 * The pino child that carries the id is made on the first line actually written: most requests
 * (a flow(id) read) write none, and a child costs more than the object holding the id.
 */
export class RequestLog implements Log {
  #child: Logger | undefined;

  constructor(
    private readonly logger: Logger,
    readonly requestId: string,
  ) {}

  debug(obj: object, msg?: string): void {
    this.#write('debug', obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.#write('info', obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.#write('warn', obj, msg);
  }

  error(obj: object, msg?: string): void {
    this.#write('error', obj, msg);
  }

  #write(level: Level, obj: object, msg: string | undefined): void {
    // A line below the level is dropped by the process logger alone, without a child for it.
    if (!this.logger.isLevelEnabled(level)) return;
    (this.#child ??= this.logger.child({ requestId: this.requestId }))[level](obj, msg);
  }
}
