import type { Cluster, Redis } from 'ioredis';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Deliverer, Delivery } from './delivery.js';
import type { DeliveryQueue } from './queue.js';

/**
 * The durable queue: BullMQ on the gateway's Redis. Every instance runs a worker; a job is held by
 * one worker at a time (BullMQ's lock), so two instances never send the same delivery together,
 * and a job whose worker died (SIGKILL) is handed to another once its lock lapses. Job ids are the
 * delivery ids, so adding the same transition twice keeps one job.
 *
 * Every key shares the hash tag `{unify-webhooks}`: BullMQ's scripts touch several keys of a
 * queue at once, which Redis Cluster allows only within one slot.
 */

export const WEBHOOK_QUEUE_PREFIX = '{unify-webhooks}';
export const WEBHOOK_QUEUE_NAME = 'deliveries';
/** Undelivered events by the time of their transition, for the age of the oldest. */
const UNDELIVERED = `${WEBHOOK_QUEUE_PREFIX}:undelivered`;

/** Settled deliveries stay this long (completed: so a late duplicate add is still recognised; failed: for replay). */
const KEEP_COMPLETED_S = 60 * 60;
const KEEP_FAILED_S = 7 * 24 * 60 * 60;

class RetryLater extends Error {
  constructor(readonly retryInMs: number) {
    super('webhook attempt failed; retrying');
  }
}

export interface BullmqQueueOptions {
  /** A connection for adding jobs and reading counts. */
  producer: Redis | Cluster;
  /** A connection of its own for the worker (it blocks), with maxRetriesPerRequest: null. */
  worker: Redis | Cluster;
  concurrency: number;
  /**
   * How long a worker's hold on a job lasts without renewal (renewed at half of it while the
   * attempt runs): a killed instance's attempt in flight is retried elsewhere after about this.
   */
  lockDurationMs: number;
  logger: Logger;
  now?: () => number;
}

export async function bullmqQueue(deliverer: Deliverer, options: BullmqQueueOptions): Promise<DeliveryQueue> {
  const { producer, logger, now = Date.now } = options;
  const queue = new Queue<Delivery>(WEBHOOK_QUEUE_NAME, {
    connection: producer,
    prefix: WEBHOOK_QUEUE_PREFIX,
    defaultJobOptions: {
      // Retries end by the schedule's window (the deliverer decides), never by a count.
      attempts: 1_000_000,
      backoff: { type: 'jittered' },
      removeOnComplete: { age: KEEP_COMPLETED_S },
      removeOnFail: { age: KEEP_FAILED_S },
    },
  });
  const untrack = (id: string | undefined) => (id ? producer.zrem(UNDELIVERED, id).then(() => undefined, () => undefined) : undefined);

  const attempt = async (job: Job<Delivery>): Promise<string> => {
    const decision = await deliverer.run(job.data, job.attemptsMade + 1);
    if (!decision.settled) throw new RetryLater(decision.retryInMs);
    await untrack(job.id);
    // Refused and given-up deliveries stay in the failed set, which is what a replay re-queues.
    if (decision.outcome === 'rejected' || decision.outcome === 'expired') throw new UnrecoverableError(decision.outcome);
    return decision.outcome;
  };
  const worker = new Worker<Delivery>(WEBHOOK_QUEUE_NAME, attempt, {
    connection: options.worker,
    prefix: WEBHOOK_QUEUE_PREFIX,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: Math.max(Math.round(options.lockDurationMs / 2), 500),
    // A stall is an instance that died mid-attempt: never a reason to drop the event.
    maxStalledCount: 1_000_000,
    settings: { backoffStrategy: (_attempts, _type, error) => (error instanceof RetryLater ? error.retryInMs : 1_000) },
  });
  // BullMQ reports connection trouble as 'error' events (an EventEmitter without a listener would throw).
  let lastLogged = 0;
  const onError = (error: Error) => {
    if (now() - lastLogged < 10_000) return;
    lastLogged = now();
    logger.warn({ err: { message: error.message } }, 'webhook queue: Redis error (deliveries resume when it answers)');
  };
  worker.on('error', onError);
  queue.on('error', onError);

  return {
    async add(items) {
      await queue.addBulk(items.map(({ id, delivery }) => ({ name: delivery.type, data: delivery, opts: { jobId: id } })));
      const members = items.flatMap(({ id, delivery }) => [delivery.occurredAt, id]);
      // NX: a duplicate add keeps the first time. Only the age metric reads this set.
      if (members.length) await producer.zadd(UNDELIVERED, 'NX', ...members).catch(() => undefined);
    },
    async depth() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
    async oldestAgeMs() {
      // A member whose job settled without its ZREM (an instance died in between) is dropped here.
      for (let i = 0; i < 20; i++) {
        const [id, score] = await producer.zrange(UNDELIVERED, 0, 0, 'WITHSCORES');
        if (!id) return 0;
        const state = await queue.getJobState(id);
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return Math.max(now() - Number(score), 0);
        await producer.zrem(UNDELIVERED, id);
      }
      return 0;
    },
    async close(timeoutMs) {
      const within = <T>(work: Promise<T>, ms: number) =>
        Promise.race([work.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      // An attempt cut here is retried by another instance once its lock lapses.
      if (!(await within(worker.close(), timeoutMs))) await within(worker.close(true), 1_000);
      // With Redis gone, closing would wait for it: the connections are dropped by the caller anyway.
      await within(queue.close(), 1_000);
    },
  };
}
