import { createMemoryStore } from './memory-store.js';
import type { Store } from './store-backend.js';

/**
 * The one place that decides where state lives. The Redis store (redis-store.ts) is loaded only
 * when a Redis URL is configured: @keyv/redis and its client cost a process in memory mode ~3 MB
 * of RSS it never uses.
 */

export type { Store } from './store-backend.js';
export { createMemoryStore } from './memory-store.js';
export { deserialize, serialize } from './serialization.js';

/**
 * The store for a configuration: in memory without a Redis URL, in Redis with one, on a Redis
 * Cluster with `cluster` (REDIS_CLUSTER=on; the URL names seed nodes).
 */
export async function openStore(redisUrl: string | undefined, namespace = 'unify', options: { cluster?: boolean } = {}): Promise<Store> {
  if (!redisUrl) return createMemoryStore(namespace);
  if (options.cluster) return (await import('./cluster-store.js')).createClusterStore(redisUrl, namespace);
  const { createRedisStore } = await import('./redis-store.js');
  return createRedisStore(redisUrl, namespace);
}
