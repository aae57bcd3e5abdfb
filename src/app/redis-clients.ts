import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { logRedisConnection } from '../resilience/store-guard.js';

/**
 * The publish and subscribe connections. ioredis is loaded here, not at the top: a single instance
 * in memory mode never uses it, and it is ~5 MB of its RSS.
 */
export async function redisClients(url: string, logger: Logger): Promise<{ pub: Redis; sub: Redis }> {
  const { Redis } = await import('ioredis');
  const pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const sub = new Redis(url);
  logRedisConnection(pub, 'publish', logger);
  logRedisConnection(sub, 'subscribe', logger);
  return { pub, sub };
}
