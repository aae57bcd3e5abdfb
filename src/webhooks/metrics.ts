import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Webhook series in the gateway's registry: attempts by event type and outcome, how long a
 * delivered event took from its transition, and (asked of the queue at scrape time) how many
 * deliveries wait and how old the oldest undelivered event is. No label carries a flow or a URL.
 */

export interface WebhookMetrics {
  outcome(type: string, outcome: string): void;
  delivered(type: string, lagSeconds: number): void;
}

export interface QueueStats {
  /** Deliveries not yet settled (waiting, scheduled for a retry, or in flight). */
  depth(): Promise<number>;
  /** Age of the oldest event not yet settled, in ms; 0 when none. */
  oldestAgeMs(): Promise<number>;
}

export function createWebhookMetrics(registry: Registry | undefined, stats: () => QueueStats | undefined): WebhookMetrics {
  const registers = registry ? [registry] : [];
  const deliveries = new Counter({
    name: 'unify_webhook_deliveries_total',
    help: 'Webhook delivery attempts by event type and outcome (delivered, retry, gone, rejected, expired, disabled)',
    labelNames: ['event', 'outcome'],
    registers,
  });
  const lag = new Histogram({
    name: 'unify_webhook_delivery_lag_seconds',
    help: 'From the transition to the endpoint answering 2xx, retries included',
    labelNames: ['event'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 300, 3600, 86400],
    registers,
  });
  new Gauge({
    name: 'unify_webhook_queue_depth',
    help: 'Webhook deliveries not yet settled: waiting, scheduled for a retry, or in flight',
    registers,
    async collect() {
      this.set((await stats()?.depth().catch(() => NaN)) ?? 0);
    },
  });
  new Gauge({
    name: 'unify_webhook_oldest_undelivered_age_seconds',
    help: 'Age of the oldest webhook event not yet delivered (0 when none)',
    registers,
    async collect() {
      this.set(((await stats()?.oldestAgeMs().catch(() => NaN)) ?? 0) / 1000);
    },
  });
  return {
    outcome: (type, outcome) => deliveries.inc({ event: type, outcome }),
    delivered: (type, seconds) => lag.observe({ event: type }, seconds),
  };
}
