import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Cluster, Redis } from 'ioredis';
import type { Flow } from '../flows/flow.js';
import type { WebhookConfig } from './config.js';
import { createDeliverer, type DeliveryTracing } from './delivery.js';
import { webhookEventFor } from './event.js';
import { createWebhookMetrics } from './metrics.js';
import { memoryQueue } from './memory-queue.js';
import type { DeliveryQueue, QueuedDelivery } from './queue.js';
import { createSigner } from './signing.js';
import { EnqueueBacklog } from './backlog.js';

/**
 * Telling the backend: each stored transition out of PENDING (and each later one) becomes one
 * signed Standard Webhooks event per endpoint, queued by the instance that stored it and delivered
 * at least once, with retries. The gateway's only contact with this module is `onTransition`,
 * which the FlowService calls after a transition is stored.
 */

export interface Webhooks {
  /** Queues the event for a flow just stored. Never throws: a queue that cannot take it now gets it later. */
  onTransition(flow: Flow): Promise<void>;
  close(timeoutMs?: number): Promise<void>;
}

export interface WebhooksOptions {
  config: WebhookConfig;
  logger: Logger;
  /** The gateway's metrics registry. */
  registry?: Registry;
  /**
   * The gateway's Redis command connection: the durable queue adds and counts on it, and its
   * worker gets a duplicate of its own (it blocks). In process without.
   */
  redis?: Redis | Cluster;
  now?: () => number;
  /** With tracing on: each attempt is a span in the trace of the transition that caused it. */
  tracing?: DeliveryTracing;
}

const endpointTag = (url: string) => createHash('sha256').update(url).digest('base64url').slice(0, 12);

/** BullMQ's worker waits on Redis for as long as it takes: no per-command retry limit. */
function workerConnection(redis: Redis | Cluster): Redis | Cluster {
  const worker = redis.isCluster
    ? (redis as Cluster).duplicate(undefined, { redisOptions: { ...(redis as Cluster).options.redisOptions, maxRetriesPerRequest: null } })
    : (redis as Redis).duplicate({ maxRetriesPerRequest: null });
  // The worker's own 'error' events are logged (bullmq-queue.ts); the client's would go to the console.
  worker.on('error', () => {});
  return worker;
}

export async function createWebhooks({ config, logger, registry, redis, now = Date.now, tracing }: WebhooksOptions): Promise<Webhooks> {
  let queue: DeliveryQueue | undefined;
  let closeWorker = () => {};
  const backlog = new EnqueueBacklog(logger);
  const metrics = createWebhookMetrics(registry, () => queue && {
    // While Redis is unreachable the shared queue cannot be counted: what this instance holds still is.
    depth: async () => (await queue!.depth().catch(() => 0)) + backlog.size,
    oldestAgeMs: async () => Math.max(await queue!.oldestAgeMs().catch(() => 0), backlog.oldestAgeMs(now())),
  });
  const deliverer = createDeliverer({
    signer: createSigner(config.secrets),
    timeoutMs: config.timeoutMs,
    retry: config.retry,
    logger,
    metrics,
    now,
    tracing,
  });
  if (redis) {
    // Loaded only with Redis: memory mode never needs BullMQ (nor the Redis client it brings).
    const { bullmqQueue } = await import('./bullmq-queue.js');
    const worker = workerConnection(redis);
    closeWorker = () => worker.disconnect();
    queue = await bullmqQueue(deliverer, {
      producer: redis,
      worker,
      concurrency: config.concurrency,
      // Locks are renewed while an attempt runs; a dead instance's attempt is retried after about this.
      lockDurationMs: Math.min(Math.max(config.timeoutMs, 2_000), 30_000),
      logger,
      now,
    });
  } else {
    queue = memoryQueue(deliverer, { concurrency: config.concurrency, now });
  }
  const held = queue;
  const tags = new Map(config.urls.map((url) => [url, endpointTag(url)]));

  return {
    async onTransition(flow) {
      const event = webhookEventFor(flow);
      if (!event) return;
      const items: QueuedDelivery[] = [];
      // Called inside the step that stored the transition: its span is the attempts' parent.
      const trace = tracing?.capture();
      for (const url of config.urls) {
        const delivery = { eventId: event.id, type: event.type, occurredAt: event.occurredAt, body: event.body, url, ...trace };
        if (deliverer.disabled(url)) metrics.outcome(event.type, 'disabled');
        else items.push({ id: `${event.id}.${tags.get(url)}`, delivery });
      }
      if (!items.length) return;
      try {
        await held.add(items);
      } catch (error) {
        backlog.keep(items, (pending) => held.add(pending), error as Error, now());
      }
    },
    async close(timeoutMs = 5_000) {
      backlog.stop();
      await held.close(timeoutMs);
      closeWorker();
    },
  };
}

export { readWebhookConfig, type WebhookConfig } from './config.js';
