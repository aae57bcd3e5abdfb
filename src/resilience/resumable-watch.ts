import type { Log } from '../lib/log.js';
import type { Flow } from '../flows/flow.js';
import { isStoreOutage, StoreUnavailableError } from './store-guard.js';
import { DONE, PullIterator } from '../flows/pull-iterator.js';
import { FlowNotFoundError, FlowStartPendingError } from '../flows/errors.js';

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
 * - A flow whose start is still being stored elsewhere (FlowStartPendingError) is waited for the
 *   same way: it appears once its instance has written it.
 * - Any other error (FlowNotFoundError, a bug) ends the subscription as before; a flow this
 *   subscriber saw that is now not found was lost by the store, and the error says so.
 */

export interface ResumableWatchOptions {
  signal?: AbortSignal | undefined;
  /** The subscriber's log (its lines carry the operation's request id). */
  logger?: Log;
  /** First retry delay, doubled per failure up to maxRetryMs (defaults 100 and 2000). */
  retryMs?: number;
  maxRetryMs?: number;
  /** How long a subscription that has shown nothing yet waits for the store (default 5000). */
  firstEventGraceMs?: number;
  /** How long an open subscription waits for the store before giving up (default 15 minutes, a flow's lifetime). */
  giveUpAfterMs?: number;
}

/** Starts a watch; `signal` is the subscriber's (the watch must end when it aborts). */
export type StartWatch = (signal: AbortSignal | undefined) => AsyncIterator<Flow>;

export function resumableWatch(watch: StartWatch, options: ResumableWatchOptions = {}): AsyncIterableIterator<Flow> {
  return new ResumableWatch(watch, options);
}

/**
 * Written out as one pull-driven object (like FlowWatch) instead of a Repeater with an
 * AbortController: 10,000 subscriptions hold 10,000 of these. The inner watch gets the
 * subscriber's signal itself and is ended by return(); the abort listener and the timer exist
 * only during a backoff pause.
 */
class ResumableWatch extends PullIterator<Flow> {
  #inner: AsyncIterator<Flow> | undefined;
  #delivered = 0;
  #failingSince: number | undefined;
  #delay = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(
    private readonly watch: StartWatch,
    private readonly options: ResumableWatchOptions,
  ) {
    super();
  }

  /** The abort signal's listener during a pause (an EventListener object, no closure). */
  handleEvent(): void {
    this.#wakeUp();
  }

  /**
   * One value from the inner watch. While it waits, this watch's pending next() is a reaction on
   * the inner one's, not an async function suspended with its frame: 10,000 quiet subscriptions
   * each hold one. Only a failure runs the async retry path.
   */
  protected step(): Promise<IteratorResult<Flow>> {
    const { signal } = this.options;
    if (this.#stopped || signal?.aborted) {
      this.end();
      return Promise.resolve(DONE);
    }
    let inner: AsyncIterator<Flow>;
    try {
      inner = this.#inner ??= this.watch(signal);
    } catch (error) {
      return Promise.reject(error);
    }
    // This watch's own next() runs one step at a time, so a pull-driven inner watch need not queue.
    return (inner instanceof PullIterator ? inner.pull() : inner.next()).then(
      (result) => this.#received(result),
      (error: unknown) => this.#failed(error),
    );
  }

  #received(result: IteratorResult<Flow>): IteratorResult<Flow> | Promise<IteratorResult<Flow>> {
    if (result.done) {
      this.end();
      return DONE;
    }
    const flow = result.value;
    if (this.#failingSince !== undefined) {
      this.options.logger?.debug({ pausedMs: Date.now() - this.#failingSince }, 'subscription resumed after a store outage');
    }
    this.#failingSince = undefined;
    this.#delay = 0;
    if (flow.version <= this.#delivered) return this.step();
    this.#delivered = flow.version;
    if (this.#stopped) {
      this.end();
      return DONE;
    }
    return { done: false, value: flow };
  }

  async #failed(error: unknown): Promise<IteratorResult<Flow>> {
    const { signal, logger } = this.options;
    this.#inner = undefined;
    if (this.#stopped) {
      this.end();
      return DONE;
    }
    if (!(isStoreOutage(error) || error instanceof FlowStartPendingError) || signal?.aborted) {
      this.end();
      // A restarted watch reads the flow afresh; not found after this subscriber saw it means
      // the store lost it, and the subscriber should hear that rather than "no such flow".
      throw error instanceof FlowNotFoundError && this.#delivered > 0 ? new FlowNotFoundError(true) : error;
    }
    const now = Date.now();
    this.#failingSince ??= now;
    const waited = now - this.#failingSince;
    if ((this.#delivered === 0 && waited >= (this.options.firstEventGraceMs ?? 5_000)) || waited >= (this.options.giveUpAfterMs ?? 15 * 60_000)) {
      this.end();
      throw error instanceof StoreUnavailableError || error instanceof FlowStartPendingError ? error : new StoreUnavailableError('subscription', error);
    }
    if (waited === 0) logger?.debug({}, 'subscription paused: the store is unavailable; retrying');
    const delay = this.#delay || (this.options.retryMs ?? 100);
    await this.#pause(delay);
    this.#delay = Math.min(delay * 2, this.options.maxRetryMs ?? 2_000);
    return this.step();
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => this.#wakeUp(), ms);
      this.options.signal?.addEventListener('abort', this, { once: true });
    });
  }

  #wakeUp() {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.options.signal?.removeEventListener('abort', this);
    }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Ends the inner watch and any pause at once; a pending next() ends. */
  protected end() {
    if (this.#stopped) return;
    this.#stopped = true;
    const inner = this.#inner;
    this.#inner = undefined;
    void inner?.return?.().catch(() => {});
    this.#wakeUp();
  }
}
