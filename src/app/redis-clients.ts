import type { Logger } from 'pino';
import { logRedisConnection } from '../resilience/store-guard.js';
import { connectRedis, type RedisClient, type RedisTarget } from '../store/redis-client.js';

/**
 * The command (and publish) connection and the subscribe connection, to one Redis or to a Redis
 * Cluster (REDIS_CLUSTER=on). ioredis is loaded here, not at the top: a single instance in memory
 * mode never uses it, and it is ~5 MB of its RSS.
 */
export async function redisClients(target: RedisTarget, logger: Logger): Promise<{ pub: RedisClient; sub: RedisClient }> {
  // Each client gets its 'error' listener at once: a refused first connect can be reported before
  // the next await returns, and without a listener ioredis prints it to stderr.
  const pub = await connectRedis(target, { lazyConnect: false, maxRetriesPerRequest: 2 });
  logRedisConnection(pub, 'publish', logger);
  // In a cluster, notifications are sharded (SSUBSCRIBE on the master owning the channel's slot).
  const sub = await connectRedis(target, {}, { shardedSubscribers: true });
  logRedisConnection(sub, 'subscribe', logger);
  return { pub, sub };
}
