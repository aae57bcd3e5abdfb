import { EventEmitter } from 'node:events';
import { Keyv } from 'keyv';
import type { Cluster } from 'ioredis';
import { connectRedis } from './redis-client.js';
import { deserialize, serialize } from './serialization.js';
import type { Store } from './store-backend.js';
import { SET_IF_NEWER, type ConditionalWrites } from './conditional-write.js';

/**
 * The store on a Redis Cluster (REDIS_CLUSTER=on): keyv over ioredis' Cluster client, which follows
 * the cluster's slot map (MOVED, ASK, failover) for every key. Keys and values are written exactly
 * as @keyv/redis writes them on a single Redis (`<namespace>::<key>`, keyv's serialized text), so
 * the two modes hold the same data. Each keyv call touches one key: no command spans slots.
 */
class ClusterKeyvStore extends EventEmitter {
  namespace: string | undefined;

  constructor(private readonly cluster: Cluster) {
    super();
  }

  #key(key: string): string {
    return this.namespace ? `${this.namespace}::${key}` : key;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.cluster.get(this.#key(key))) ?? undefined;
  }

  async getMany(keys: string[]): Promise<(string | undefined)[]> {
    // One GET per key: the keys hash to different slots, and MGET across slots is refused.
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs) await this.cluster.set(this.#key(key), value, 'PX', ttlMs);
    else await this.cluster.set(this.#key(key), value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.cluster.del(this.#key(key))) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const deleted = await Promise.all(keys.map((key) => this.delete(key)));
    return deleted.some(Boolean);
  }

  async has(key: string): Promise<boolean> {
    return (await this.cluster.exists(this.#key(key))) === 1;
  }

  /** Every key of the namespace, on every master (SCAN runs per node in a cluster). */
  async clear(): Promise<void> {
    const pattern = this.namespace ? `${this.namespace}::*` : '*';
    for (const node of this.cluster.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        // One DEL per key: a node's keys still span many slots.
        await Promise.all(keys.map((key) => node.del(key)));
      } while (cursor !== '0');
    }
  }

  /** The fenced write's script: one key, so it runs on whichever master owns its slot. */
  async setIfNewer(key: string, serialized: string, version: number, ttlMs: number): Promise<boolean> {
    return Number(await this.cluster.eval(SET_IF_NEWER, 1, this.#key(key), serialized, String(version), String(ttlMs))) === 1;
  }

  async disconnect(): Promise<void> {
    this.cluster.disconnect();
  }
}

const PING_KEY = 'ping';
const CONNECT_WAIT_MS = 2_000;

export async function createClusterStore(redisUrl: string, namespace = 'unify'): Promise<Store> {
  const cluster = (await connectRedis({ url: redisUrl, cluster: true }, { maxRetriesPerRequest: 2 })) as Cluster;
  // Failures reach callers as rejected commands; without a listener an 'error' event would crash the process.
  cluster.on('error', () => {});
  const adapter = new ClusterKeyvStore(cluster);
  const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, useKeyPrefix: false, serialize, deserialize });
  keyv.on('error', () => {});
  // Settles within CONNECT_WAIT_MS, as @keyv/redis' first connect does on one Redis: the client
  // keeps trying unreachable seeds for ever, and the gateway would otherwise never start listening
  // (it starts anyway, and /ready says what is wrong).
  const connected = new Promise<void>((resolve, reject) => {
    if (cluster.status === 'ready') return resolve();
    const timer = setTimeout(() => reject(new Error(`Redis Cluster not ready within ${CONNECT_WAIT_MS} ms`)), CONNECT_WAIT_MS);
    cluster.once('ready', () => (clearTimeout(timer), resolve()));
    cluster.once('end', () => (clearTimeout(timer), reject(new Error('Redis Cluster connection ended'))));
  });
  connected.catch(() => {});
  const writes: ConditionalWrites = {
    async setIfNewer(key, value, ttlMs) {
      const ttl = Math.max(1, Math.ceil(ttlMs));
      const serialized = await keyv.serialize!({ value, expires: Date.now() + ttl });
      return adapter.setIfNewer(key, serialized as string, value.version, ttl);
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
    close: async () => adapter.disconnect(),
  };
}
