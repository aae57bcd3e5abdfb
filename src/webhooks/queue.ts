import type { Delivery } from './delivery.js';
import type { QueueStats } from './metrics.js';

/** Where deliveries wait between attempts: in process (memory mode) or in Redis (BullMQ). */
export interface DeliveryQueue extends QueueStats {
  /**
   * Adds deliveries, each under its id: one already known (waiting, retrying or recently settled)
   * is not added again, so the same transition enqueued twice is delivered once. Resolves once
   * they are held (in Redis: written); rejects when they could not be.
   */
  add(deliveries: readonly QueuedDelivery[]): Promise<void>;
  /** Stops taking work, lets attempts in flight finish (up to `timeoutMs`), releases connections. */
  close(timeoutMs: number): Promise<void>;
}

export interface QueuedDelivery {
  /** The event's id and the endpoint's, together: unique per transition and endpoint. */
  id: string;
  delivery: Delivery;
}
