import type { Logger } from 'pino';
import type { QueuedDelivery } from './queue.js';

/**
 * Deliveries the queue could not take when their transition was stored (Redis unreachable): kept
 * in this process and offered again with backoff until it takes them, so a Redis blip loses no
 * event (an instance that dies during the blip does lose what it kept). Bounded: past MAX, the
 * oldest are dropped, loudly.
 */

const MAX = 10_000;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;

export class EnqueueBacklog {
  readonly #items: { item: QueuedDelivery; since: number }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #delay = FIRST_RETRY_MS;
  #add: ((items: QueuedDelivery[]) => Promise<void>) | undefined;
  #stopped = false;

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.#items.length;
  }

  oldestAgeMs(now: number): number {
    return this.#items.length ? Math.max(now - this.#items[0]!.since, 0) : 0;
  }

  keep(items: QueuedDelivery[], add: (items: QueuedDelivery[]) => Promise<void>, error: Error, now: number): void {
    if (this.#stopped) return;
    this.#add = add;
    if (!this.#items.length) this.logger.warn({ err: { message: error.message } }, 'webhook queue unreachable: events kept in memory until it answers');
    this.#items.push(...items.map((item) => ({ item, since: now })));
    const dropped = this.#items.length - MAX;
    if (dropped > 0) {
      this.#items.splice(0, dropped);
      this.logger.error({ dropped }, 'webhook backlog full: oldest events dropped');
    }
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#items.length) this.logger.warn({ events: this.#items.length }, 'webhook events not yet queued are lost with this process');
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setTimeout(() => void this.#flush(), this.#delay);
    this.#timer.unref();
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const batch = this.#items.slice(0, 500);
    try {
      await this.#add!(batch.map(({ item }) => item));
      this.#items.splice(0, batch.length);
      this.#delay = FIRST_RETRY_MS;
      if (!this.#items.length) this.logger.info('webhook queue reachable again: kept events queued');
    } catch {
      this.#delay = Math.min(this.#delay * 2, MAX_RETRY_MS);
    }
    if (this.#items.length) this.#schedule();
  }
}
