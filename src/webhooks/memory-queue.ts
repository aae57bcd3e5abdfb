import type { Deliverer } from './delivery.js';
import type { DeliveryQueue, QueuedDelivery } from './queue.js';

/**
 * Memory mode's queue: timers in this process. One instance, no Redis: deliveries waiting for a
 * retry are lost when the process stops (the README says so); everything else matches the Redis
 * queue (retries, concurrency, de-duplication by id).
 */

/** Settled ids remembered, so a delivery enqueued twice is still sent once. */
const RECENT = 4096;

interface Entry {
  item: QueuedDelivery;
  attempts: number;
  timer?: NodeJS.Timeout;
}

export function memoryQueue(deliverer: Deliverer, { concurrency, now = Date.now }: { concurrency: number; now?: () => number }): DeliveryQueue {
  const entries = new Map<string, Entry>();
  const recent = new Set<string>();
  const ready: Entry[] = [];
  const running = new Set<Promise<void>>();
  let closed = false;

  const forget = (id: string) => {
    entries.delete(id);
    recent.add(id);
    if (recent.size > RECENT) recent.delete(recent.values().next().value!);
  };

  const pump = () => {
    while (!closed && running.size < concurrency && ready.length) {
      const entry = ready.shift()!;
      entry.attempts++;
      const attempt = deliverer.run(entry.item.delivery, entry.attempts).then((decision) => {
        running.delete(attempt);
        if (decision.settled) forget(entry.item.id);
        else if (!closed) {
          entry.timer = setTimeout(() => {
            entry.timer = undefined;
            ready.push(entry);
            pump();
          }, decision.retryInMs);
          entry.timer.unref();
        }
        pump();
      });
      running.add(attempt);
    }
  };

  return {
    async add(items) {
      if (closed) throw new Error('the webhook queue is closed');
      for (const item of items) {
        if (entries.has(item.id) || recent.has(item.id)) continue;
        const entry: Entry = { item, attempts: 0 };
        entries.set(item.id, entry);
        ready.push(entry);
      }
      pump();
    },
    depth: async () => entries.size,
    async oldestAgeMs() {
      let oldest = Infinity;
      for (const { item } of entries.values()) oldest = Math.min(oldest, item.delivery.occurredAt);
      return oldest === Infinity ? 0 : Math.max(now() - oldest, 0);
    },
    async close(timeoutMs) {
      closed = true;
      for (const entry of entries.values()) clearTimeout(entry.timer);
      await Promise.race([Promise.all(running), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    },
  };
}
