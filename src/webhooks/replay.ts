import type { Cluster, Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { WEBHOOK_QUEUE_NAME, WEBHOOK_QUEUE_PREFIX } from './bullmq-queue.js';

/**
 * Replay (`npm run webhooks:replay`): deliveries an endpoint refused (a 4xx other than 408, 410
 * and 429) or that ran out of their retry window stay in BullMQ's failed set for 7 days; this
 * puts them back in the queue, with their original webhook-id and payload, for the running
 * gateways to send. Each gets one attempt; one that fails again returns to the failed set.
 */
export async function replayFailedDeliveries(connection: Redis | Cluster): Promise<number> {
  const queue = new Queue(WEBHOOK_QUEUE_NAME, { connection, prefix: WEBHOOK_QUEUE_PREFIX });
  try {
    const failed = await queue.getFailedCount();
    if (failed) await queue.retryJobs({ state: 'failed' });
    return failed;
  } finally {
    await queue.close();
  }
}
