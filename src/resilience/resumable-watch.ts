import { Repeater } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Flow } from '../flows/flow.js';
import { isStoreOutage, StoreUnavailableError } from './store-guard.js';

/**
 * A flow watch (FlowService.watch) that outlives a store outage. When the store or pub/sub fails
 * under an open subscription, the watch is started again once it answers, after a backoff: the
 * new watch listens first and then reads the flow, so a change made while Redis was away is
 * found by that read. Versions already delivered are skipped, so each subscriber sees each
 * state once, the terminal one included, however many times its watch was restarted.
 *
 * - A subscription that has not delivered anything yet and finds the store down ends with
 *   StoreUnavailableError (typed UpstreamError) after `firstEventGraceMs`: it cannot even tell
 *   whether the flow exists, and the caller should hear so rather than wait in silence.
 * - One that has delivered keeps waiting, up to `giveUpAfterMs` of continuous failure, then ends
 *   the same way.
 * - Any other error (FlowNotFoundError, a bug) ends the subscription as before.
 */

export interface ResumableWatchOptions {
  signal?: AbortSignal | undefined;
  logger?: Logger;
  /** First retry delay, doubled per failure up to maxRetryMs (defaults 100 and 2000). */
  retryMs?: number;
  maxRetryMs?: number;
  /** How long a subscription that has shown nothing yet waits for the store (default 5000). */
  firstEventGraceMs?: number;
  /** How long an open subscription waits for the store before giving up (default 15 minutes, a flow's lifetime). */
  giveUpAfterMs?: number;
}

export function resumableWatch(
  watch: (signal: AbortSignal) => AsyncIterableIterator<Flow>,
  options: ResumableWatchOptions = {},
): AsyncIterableIterator<Flow> {
  const initialDelay = options.retryMs ?? 100;
  const maxDelay = options.maxRetryMs ?? 2_000;
  const firstEventGraceMs = options.firstEventGraceMs ?? 5_000;
  const giveUpAfterMs = options.giveUpAfterMs ?? 15 * 60_000;

  return new Repeater<Flow>(async (push, stop) => {
    // Ends the inner watch and any backoff wait when the consumer leaves or the transport aborts.
    const controller = new AbortController();
    const end = () => controller.abort();
    void stop.then(end);
    options.signal?.addEventListener('abort', end, { once: true });
    if (options.signal?.aborted) end();

    let delivered = 0;
    let failingSince: number | undefined;
    let delay = initialDelay;
    try {
      while (!controller.signal.aborted) {
        try {
          for await (const flow of watch(controller.signal)) {
            if (failingSince !== undefined) {
              options.logger?.debug({ pausedMs: Date.now() - failingSince }, 'subscription resumed after a store outage');
            }
            failingSince = undefined;
            delay = initialDelay;
            if (flow.version <= delivered) continue;
            delivered = flow.version;
            await push(flow);
          }
          return;
        } catch (error) {
          if (!isStoreOutage(error) || controller.signal.aborted) throw error;
          const now = Date.now();
          failingSince ??= now;
          const waited = now - failingSince;
          if ((delivered === 0 && waited >= firstEventGraceMs) || waited >= giveUpAfterMs) {
            throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError('subscription', error);
          }
          if (waited === 0) options.logger?.debug('subscription paused: the store is unavailable; retrying');
          await pause(delay, controller.signal);
          delay = Math.min(delay * 2, maxDelay);
        }
      }
    } catch (error) {
      stop(error);
    } finally {
      options.signal?.removeEventListener('abort', end);
      stop();
    }
  });
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
