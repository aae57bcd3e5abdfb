import { Keyv, type Deserialize } from 'keyv';
import KeyvRedis, { type RedisClientConnectionType } from '@keyv/redis';
import { ExpiringMap } from './memory-store.js';

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
  /** Resolves once the first connection is up (at once in memory); rejects if it could not be made. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const PING_KEY = 'ping';

/**
 * keyv's defaultDeserialize (@keyv/serialize), without its reviver when there is nothing to revive.
 * Writes stay keyv's defaultSerialize, which escapes a string value starting with ':' as '::…' and
 * writes a Buffer as ':base64:…'; the reviver undoes both, and touches nothing else. A JSON string
 * that starts with ':' opens right after '{', '[', ',' or ':' (the serializer writes no spaces;
 * a '"' inside a string is always '\\"'), or at the very start of the text: where none of these
 * appears, a plain JSON.parse reads exactly what the reviver would (most reads: flows, claims).
 * Same format both ways, so values stay readable and writable by instances either side of this.
 */
const COLON_STRING = /[[{,:]":/;

export const deserialize: Deserialize = (text: string) =>
  text.startsWith('":') || COLON_STRING.test(text) ? JSON.parse(text, revive) : JSON.parse(text);

function revive(_key: string, value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(':base64:')) return Buffer.from(value.slice(8), 'base64');
    return value.startsWith(':') ? value.slice(1) : value;
  }
  return value;
}

export function createStore(redisUrl: string | undefined, namespace = 'unify'): Store {
  if (!redisUrl) {
    const map = new ExpiringMap<unknown>();
    const keyv = new Keyv({ store: map, namespace, throwOnErrors: true, deserialize });
    return { keyv, kind: 'memory', ping: async () => {}, ready: async () => {}, close: async () => map.stop() };
  }
  const adapter = new SharedConnectKeyvRedis(
    {
      url: redisUrl,
      // Without this, commands wait in a queue while Redis is down and requests hang instead of failing.
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
    },
    { namespace, throwOnErrors: true, throwOnConnectError: true, connectionTimeout: 2000 },
  );
  const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, useKeyPrefix: false, deserialize });
  // keyv re-emits adapter errors; without a listener an 'error' event would crash the process.
  keyv.on('error', () => {});
  // Connect now rather than on the first request, so an instance is ready when it starts listening.
  const connected = adapter.getClient().then(() => undefined);
  connected.catch(() => {});
  return {
    keyv,
    kind: 'redis',
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
