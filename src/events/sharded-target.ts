import type { Cluster } from 'ioredis';
import type { FlowEventTarget, RedisPubSubClients } from './event-target.js';

/**
 * Flow notifications on a Redis Cluster, as sharded pub/sub (Redis 7+, Valkey 7.2+): SPUBLISH goes
 * to the master that owns the channel's slot and reaches only the subscribers of that shard;
 * classic PUBLISH would be broadcast over the cluster bus to every node. One SSUBSCRIBE per channel
 * while at least one local listener wants it (the count @graphql-yoga/redis-event-target keeps for
 * plain channels, which it has no sharded form for). The Cluster client (made with
 * `shardedSubscribers`) routes each SSUBSCRIBE to the right master's subscriber connection and
 * subscribes again after a failover or a slot move.
 */
export function shardedTarget({ publishClient, subscribeClient, onError = () => {} }: RedisPubSubClients): FlowEventTarget {
  const publisher = publishClient as Cluster;
  const subscriber = subscribeClient as Cluster;
  const listeners = new Map<string, Set<EventListener>>();
  /** Each channel's SSUBSCRIBE, settled once Redis answered it. */
  const inForce = new Map<string, Promise<void>>();

  subscriber.on('smessage', (channel: string, message: string) => {
    const callbacks = listeners.get(channel);
    if (!callbacks) return;
    let detail: unknown;
    try {
      detail = JSON.parse(message);
    } catch {
      detail = undefined;
    }
    for (const callback of [...callbacks]) callback(new CustomEvent(channel, { detail }));
  });

  return {
    addEventListener(type, callback) {
      let callbacks = listeners.get(type);
      if (!callbacks) {
        listeners.set(type, (callbacks = new Set()));
        const subscribing = subscriber.ssubscribe(type).then(
          () => undefined,
          (error: Error) => {
            onError(error, 'SSUBSCRIBE');
            throw error;
          },
        );
        // Whoever waits for it (subscribed) sees the failure; nobody else must.
        subscribing.catch(() => {});
        inForce.set(type, subscribing);
      }
      callbacks.add(callback);
    },
    removeEventListener(type, callback) {
      const callbacks = listeners.get(type);
      if (!callbacks?.delete(callback) || callbacks.size > 0) return;
      listeners.delete(type);
      inForce.delete(type);
      subscriber.sunsubscribe(type).catch((error: Error) => onError(error, 'SUNSUBSCRIBE'));
    },
    dispatchEvent(event) {
      const detail = (event as CustomEvent).detail;
      publisher.spublish(event.type, JSON.stringify(detail ?? null)).catch((error: Error) => onError(error, 'SPUBLISH'));
      return true;
    },
    subscribed: (type) => inForce.get(type) ?? Promise.resolve(),
  };
}
