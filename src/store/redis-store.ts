import { Keyv } from 'keyv';
import KeyvRedis, { type RedisClientConnectionType } from '@keyv/redis';
import { createMemoryStore } from './memory-store.js';
import { deserialize, serialize } from './serialization.js';
import type { Store } from './store-backend.js';
import { SET_IF_NEWER, type ConditionalWrites } from './conditional-write.js';

/**
 * The Redis store (memory-store.ts has the memory one, store-backend.ts the Store interface).
 * Imported statically, this module loads @keyv/redis: the gateway reaches it through openStore(),
 * only when Redis is configured.
 */

export { deserialize, serialize } from './serialization.js';
export type { Store } from './store-backend.js';

const PING_KEY = 'ping';

/** Either store, synchronously, for callers that load Redis anyway (tests); the gateway uses openStore(). */
export function createStore(redisUrl: string | undefined, namespace = 'unify'): Store {
  return redisUrl ? createRedisStore(redisUrl, namespace) : createMemoryStore(namespace);
}

export function createRedisStore(redisUrl: string, namespace = 'unify'): Store {
  const adapter = new SharedConnectKeyvRedis(
    {
      url: redisUrl,
      // Without this, commands wait in a queue while Redis is down and requests hang instead of failing.
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
    },
    { namespace, throwOnErrors: true, throwOnConnectError: true, connectionTimeout: 2000 },
  );
  const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, useKeyPrefix: false, serialize, deserialize });
  // keyv re-emits adapter errors; without a listener an 'error' event would crash the process.
  keyv.on('error', () => {});
  // Connect now rather than on the first request, so an instance is ready when it starts listening.
  const connected = adapter.getClient().then(() => undefined);
  connected.catch(() => {});
  const writes: ConditionalWrites = {
    async setIfNewer(key, value, ttlMs) {
      const ttl = Math.max(1, Math.ceil(ttlMs));
      const serialized = await keyv.serialize!({ value, expires: Date.now() + ttl });
      const client = await adapter.getClient();
      const written = await client.eval(SET_IF_NEWER, {
        keys: [adapter.createKeyPrefix(key, adapter.namespace)],
        arguments: [serialized, String(value.version), String(ttl)],
      });
      return Number(written) === 1;
    },
  };
  return {
    keyv,
    kind: 'redis',
    writes,
    ready: () => connected,
    ping: async () => {
      await keyv.set(PING_KEY, Date.now(), 5000);
    },
    close: async () => {
      await adapter.disconnect().catch(() => {});
    },
  };
}

/**
 * @keyv/redis connects on first use, and a command issued while that connect is under way finds
 * the client open but not ready: with the offline queue off it fails at once ("The client is
 * offline"). So the first requests that reach a fresh instance together failed, all but one.
 * Here every caller waits for the one connect in progress. (A client that lost its connection
 * later is open and reconnecting: commands still fail fast, as intended.)
 */
class SharedConnectKeyvRedis extends KeyvRedis<unknown> {
  #connecting: Promise<RedisClientConnectionType> | undefined;

  override getClient(): Promise<RedisClientConnectionType> {
    // A single node's client says whether it is ready; a cluster's has no such flag.
    const ready = (this.client as { isReady?: boolean }).isReady;
    if (ready === true) return Promise.resolve(this.client);
    if (ready === undefined) return super.getClient();
    this.#connecting ??= super.getClient().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }
}
