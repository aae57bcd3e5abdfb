import type { Redis } from 'ioredis';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { isCluster, type RedisClient } from '../store/redis-client.js';
import { shardedTarget } from './sharded-target.js';
import type { FlowEventTarget, RedisPubSubClients } from './event-target.js';

/**
 * "Flow X changed", and nothing more: subscribers re-read the store, so a notification lost while
 * a client reconnects costs nothing, and no flow data travels through the bus (the payload is the
 * new version, for logs and debugging only).
 *
 * In Redis mode each flow is its own channel (`unify:flow-changed:<flow key>`), subscribed while
 * at least one local listener wants it and unsubscribed when the last one leaves
 * (@graphql-yoga/redis-event-target keeps that count per channel). On a Redis Cluster the same
 * channels are sharded (SSUBSCRIBE/SPUBLISH, sharded-target.ts): a notification travels only
 * within the shard that owns its channel's slot, instead of being broadcast over the cluster bus
 * to every node.
 */

export interface FlowEvents {
  /** Announces a stored change. Never throws: a lost notification only delays a subscriber. */
  published(key: string, version: number): void;
  /**
   * Calls `onChange` on every notification about `key` until the returned function is called.
   * A function listens to one key at a time (it is the listener itself; a second listen() rejects).
   * Resolves once the subscription is in force (in Redis mode: Redis has processed the
   * SUBSCRIBE), so whoever reads the store after that cannot miss a change published later.
   * Also calls `onChange` after the Redis connection came back, since messages published while
   * it was down are gone: the listener re-reads and finds out.
   */
  listen(key: string, onChange: () => void): Promise<() => void>;
  /** What the function listen() resolved with does, for a caller that keeps `key` and `onChange` anyway. */
  unlisten(key: string, onChange: () => void): void;
  /** Live listeners in this process (leak checks, metrics). */
  listenerCount(): number;
}

export type { FlowEventTarget, RedisPubSubClients } from './event-target.js';

export const flowChannel = (key: string): string => `unify:flow-changed:${key}`;

/**
 * In-process (no argument), over Redis (the two clients), or over any event target (no
 * confirmation that a subscription is in force: listen() resolves at once).
 */
export function createFlowEvents(transport?: RedisPubSubClients | FlowEventTarget): FlowEvents {
  const redis = transport && 'subscribeClient' in transport ? transport : undefined;
  const sharded = redis !== undefined && isCluster(redis.subscribeClient);
  const target: FlowEventTarget = redis
    ? sharded
      ? shardedTarget(redis)
      : redisTarget(redis as RedisPubSubClients & { subscribeClient: Redis; publishClient: Redis })
    : ((transport as FlowEventTarget | undefined) ?? localTarget());
  // Our own bookkeeping of who listens, for counts and for waking everyone after a reconnect.
  const listeners = new Set<() => void>();

  const wakeAll = () => [...listeners].forEach((wake) => wake());
  if (redis && sharded) {
    // The cluster client starts (again) a subscriber per master and re-subscribes their channels
    // after every change of the slot map or a lost node ('subscribersReady'): messages published
    // meanwhile are gone, so every listener re-reads.
    let readyOnce = false;
    redis.subscribeClient.on('subscribersReady', () => {
      if (!readyOnce) return void (readyOnce = true);
      setImmediate(wakeAll);
    });
  } else if (redis) {
    // ioredis re-subscribes every channel when the connection comes back, in the same tick as
    // 'ready'; after that (the PING is answered behind the SUBSCRIBEs) every listener re-reads.
    let connectedOnce = false;
    redis.subscribeClient.on('ready', () => {
      if (!connectedOnce) return void (connectedOnce = true);
      setImmediate(() => {
        void redis.subscribeClient.ping().then(wakeAll, () => {});
      });
    });
  }

  const unlisten = (key: string, onChange: () => void): void => {
    if (listeners.delete(onChange)) target.removeEventListener(flowChannel(key), onChange);
  };
  return {
    published(key, version) {
      target.dispatchEvent(new CustomEvent(flowChannel(key), { detail: { version } }));
    },
    async listen(key, onChange) {
      const channel = flowChannel(key);
      // onChange itself is the target's listener (it ignores the event), and our set says
      // whether it is still listening: no wrapper nor flag, held per open subscription.
      if (listeners.has(onChange)) throw new Error('flow events: one listener listens once');
      target.addEventListener(channel, onChange);
      listeners.add(onChange);
      if (redis) {
        // Commands on one connection run in order: once this PING is answered, the SUBSCRIBE
        // the event target sent before it is in force. A sharded subscription says so itself.
        try {
          await (target.subscribed ? target.subscribed(channel) : redis.subscribeClient.ping());
        } catch (error) {
          unlisten(key, onChange);
          throw error;
        }
      }
      return () => unlisten(key, onChange);
    },
    unlisten,
    listenerCount: () => listeners.size,
  };
}

/** In-process dispatch (EventTarget would warn past ten listeners of one flow). */
function localTarget(): FlowEventTarget {
  const byType = new Map<string, Set<EventListener>>();
  return {
    addEventListener(type, callback) {
      let set = byType.get(type);
      if (!set) byType.set(type, (set = new Set()));
      set.add(callback);
    },
    removeEventListener(type, callback) {
      const set = byType.get(type);
      if (set?.delete(callback) && set.size === 0) byType.delete(type);
    },
    dispatchEvent(event) {
      for (const callback of [...(byType.get(event.type) ?? [])]) callback(event);
      return true;
    },
  };
}

/**
 * createRedisEventTarget over the two clients, with their promises handled: the event target
 * fires PUBLISH, SUBSCRIBE and UNSUBSCRIBE without awaiting them, and a rejection (Redis down,
 * the connection closing) would otherwise be an unhandled rejection that ends the process.
 */
function redisTarget({ publishClient, subscribeClient, onError = () => {} }: RedisPubSubClients & { publishClient: Redis; subscribeClient: Redis }): FlowEventTarget {
  const handled =
    (command: string, call: (...args: string[]) => Promise<unknown>) =>
    (...args: string[]) =>
      call(...args).catch((error: Error) => onError(error, command));
  const publisher = { publish: handled('PUBLISH', (channel, message) => publishClient.publish(channel!, message!)) };
  const subscriber = {
    on: (event: string, callback: (...args: unknown[]) => void) => {
      subscribeClient.on(event, callback);
      return subscriber;
    },
    subscribe: handled('SUBSCRIBE', (...channels) => subscribeClient.subscribe(...channels)),
    unsubscribe: handled('UNSUBSCRIBE', (...channels) => subscribeClient.unsubscribe(...channels)),
  };
  return createRedisEventTarget({
    // Only the methods above are used by the event target (version 3).
    publishClient: publisher as unknown as Redis,
    subscribeClient: subscriber as unknown as Redis,
  }) as unknown as FlowEventTarget;
}
