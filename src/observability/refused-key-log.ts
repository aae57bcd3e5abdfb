import type { Logger } from 'pino';
import type { Log } from '../lib/log.js';

/** How often at most a refused API key is logged; refusals in between are counted on the next line. */
const WINDOW_MS = 1_000;

/** `log`: the request's, when the refusal belongs to one (its line then carries the request id). */
export type RefusedKeyWarning = (where: 'http' | 'graphql-ws', authorization: string | undefined | null, log?: Log) => void;

/**
 * A warning for each refused API key (yoga answers 401, graphql-ws closes 4403), so that a backend
 * deployed with a wrong or rotated key is found in the logs, not only by its users. The line says
 * what kind of credential was refused, never the credential. A flood of bad keys writes at most
 * one line a second, each with the number of refusals it stands for.
 */
export function refusedKeyWarning(logger: Logger, now: () => number = Date.now): RefusedKeyWarning {
  let windowStart = -Infinity;
  let unlogged = 0;
  return (where, authorization, log = logger) => {
    const at = now();
    if (at - windowStart < WINDOW_MS) {
      unlogged++;
      return;
    }
    windowStart = at;
    const refusals = unlogged + 1;
    unlogged = 0;
    const reason = /^Bearer\s+\S+$/i.test(authorization?.trim() ?? '') ? 'no such API key' : 'not a Bearer credential';
    log.warn({ where, reason, refusals }, 'API key refused');
  };
}
