import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';

/**
 * The one place that decides where state lives: in process memory (one instance), or in Redis
 * (several instances behind a load balancer). Failures are loud: a Redis error throws instead of
 * reading as "not found" or a write that silently did not happen.
 */

export interface Store {
  keyv: Keyv;
  kind: 'memory' | 'redis';
  /** Resolves when the backend answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const PING_KEY = 'ping';

export function createStore(redisUrl: string | undefined, namespace = 'unify'): Store {
  if (!redisUrl) {
    const keyv = new Keyv({ namespace, throwOnErrors: true });
    return { keyv, kind: 'memory', ping: async () => {}, close: async () => {} };
  }
  const adapter = new KeyvRedis(
    {
      url: redisUrl,
      // Without this, commands wait in a queue while Redis is down and requests hang instead of failing.
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
    },
    { namespace, throwOnErrors: true, throwOnConnectError: true, connectionTimeout: 2000 },
  );
  const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, useKeyPrefix: false });
  // keyv re-emits adapter errors; without a listener an 'error' event would crash the process.
  keyv.on('error', () => {});
  return {
    keyv,
    kind: 'redis',
    ping: async () => {
      await keyv.set(PING_KEY, Date.now(), 5000);
    },
    close: async () => {
      await adapter.disconnect().catch(() => {});
    },
  };
}
