import { createPubSub, type PubSub } from 'graphql-yoga';

/**
 * "Flow X changed", and nothing more: subscribers re-read the store, so a notification lost while
 * a client reconnects costs nothing, and no flow data travels through the bus.
 * In Redis mode each flow is its own channel, subscribed only while someone listens.
 */

type Channels = { 'flow-changed': [key: string, payload: { version: number }] };

export interface FlowEvents {
  published(key: string, version: number): void;
  /** Ends (return()) when the consumer stops iterating. */
  changes(key: string): AsyncIterableIterator<{ version: number }>;
}

export type FlowEventTarget = NonNullable<NonNullable<Parameters<typeof createPubSub>[0]>['eventTarget']>;

export function createFlowEvents(eventTarget?: FlowEventTarget): FlowEvents {
  const pubSub: PubSub<Channels> = createPubSub<Channels>(eventTarget ? { eventTarget } : {});
  return {
    published: (key, version) => pubSub.publish('flow-changed', key, { version }),
    changes: (key) => pubSub.subscribe('flow-changed', key),
  };
}
