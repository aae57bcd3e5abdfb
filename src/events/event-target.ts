import type { RedisClient } from '../store/redis-client.js';

/** What carries flow notifications between instances (flow-events.ts, sharded-target.ts). */

export interface RedisPubSubClients {
  /** Any connection; PUBLISH (SPUBLISH on a cluster) only. */
  publishClient: RedisClient;
  /**
   * A connection of its own: once it subscribes, Redis allows it nothing but pub/sub. On a
   * cluster, a Cluster client made with `shardedSubscribers` (src/app/redis-clients.ts).
   */
  subscribeClient: RedisClient;
  /** Failed PUBLISH/SUBSCRIBE/UNSUBSCRIBE (Redis down): the event target would leave them unhandled. */
  onError?: (error: Error, command: string) => void;
}

/** An event target as yoga's createPubSub takes it (what createRedisEventTarget returns). */
export interface FlowEventTarget {
  addEventListener(type: string, callback: EventListener): void;
  removeEventListener(type: string, callback: EventListener): void;
  dispatchEvent(event: Event): boolean;
  /** Resolves once the subscription for `type` is in force (Redis answered it), when the target can tell. */
  subscribed?(type: string): Promise<void>;
}
