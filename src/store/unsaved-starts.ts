import type { Logger } from 'pino';
import type { Flow } from '../flows/flow.js';
import type { RequestClaim } from './request-claim.js';

/**
 * Started flows the store refused to take after Prove had answered (Redis went away between
 * unify and the write). Prove's answer is the only copy of a flow whose SMS is already out, so it
 * is kept here, served to reads on this instance, and written again with backoff until the store
 * takes it or the flow has expired.
 */

export interface UnsavedStart {
  flow: Flow;
  clientRequestId: string;
  claim: RequestClaim;
}

export interface UnsavedStartsOptions {
  /** Writes flow then claim; throws while the store is unreachable. */
  write(start: UnsavedStart): Promise<void>;
  logger?: Logger | undefined;
  now?: () => number;
  retryMs?: number;
  maxRetryMs?: number;
}

export class UnsavedStarts {
  readonly #byFlow = new Map<string, UnsavedStart>();
  readonly #byRequest = new Map<string, UnsavedStart>();
  #timer: NodeJS.Timeout | undefined;
  #delay: number;
  #flushing = false;

  constructor(private readonly options: UnsavedStartsOptions) {
    this.#delay = options.retryMs ?? 100;
  }

  get size(): number {
    return this.#byFlow.size;
  }

  flow(id: string): Flow | undefined {
    return this.#byFlow.get(id)?.flow;
  }

  claim(clientRequestId: string): RequestClaim | undefined {
    return this.#byRequest.get(clientRequestId)?.claim;
  }

  keep(start: UnsavedStart): void {
    if (this.#byFlow.size === 0) this.options.logger?.warn('store refused a started flow; keeping it in memory and retrying');
    this.#byFlow.set(start.flow.id, start);
    this.#byRequest.set(start.clientRequestId, start);
    this.#schedule();
  }

  /** A newer state of a kept flow (a status answer while the store is still away). */
  update(flow: Flow): boolean {
    const kept = this.#byFlow.get(flow.id);
    if (!kept || kept.flow.version >= flow.version) return false;
    kept.flow = flow;
    return true;
  }

  /** Tries every kept start once now; resolves when done (tests and shutdown). */
  async flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      const now = (this.options.now ?? Date.now)();
      for (const start of [...this.#byFlow.values()]) {
        if (start.flow.expiresAt <= now) {
          this.#forget(start);
          continue;
        }
        try {
          await this.options.write(start);
          this.#forget(start);
        } catch {
          // Still unreachable: the next round tries again.
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #forget(start: UnsavedStart): void {
    if (this.#byFlow.get(start.flow.id) === start) this.#byFlow.delete(start.flow.id);
    if (this.#byRequest.get(start.clientRequestId) === start) this.#byRequest.delete(start.clientRequestId);
    if (this.#byFlow.size === 0) this.options.logger?.warn('every kept flow is stored now');
  }

  #schedule(): void {
    if (this.#timer || this.#byFlow.size === 0) return;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      await this.flush();
      if (this.#byFlow.size === 0) {
        this.#delay = this.options.retryMs ?? 100;
        return;
      }
      this.#delay = Math.min(this.#delay * 2, this.options.maxRetryMs ?? 2_000);
      this.#schedule();
    }, this.#delay);
    this.#timer.unref();
  }
}
