import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createFlowEvents, flowChannel, type FlowEvents } from '../../src/events/flow-events.js';
import { eventually, sharedRedis } from '../live/support.js';

/**
 * "Flow X changed" over Redis, on real connections: when a listener counts as listening, what a
 * dropped subscriber connection costs, and that a Redis that is gone does not take the process with it.
 */

const base = await sharedRedis();
const REDIS_URL = base ?? '';

describe.skipIf(!base)('FlowEvents on Redis', () => {
  const connections: Redis[] = [];
  const connect = (url = REDIS_URL, options = {}) => {
    const client = new Redis(url, options);
    client.on('error', () => {});
    connections.push(client);
    return client;
  };
  const events = (): { events: FlowEvents; publisher: Redis; subscriber: Redis } => {
    const publisher = connect();
    const subscriber = connect();
    return { events: createFlowEvents({ publishClient: publisher, subscribeClient: subscriber }), publisher, subscriber };
  };
  const key = () => randomBytes(16).toString('base64url');
  afterEach(() => {
    for (const c of connections.splice(0)) c.disconnect();
  });

  it('listen() resolves only once Redis has the subscription: a change published right after is heard, on another instance too', async () => {
    const here = events();
    const there = events();
    const flow = key();
    let heard = 0;
    const unlisten = await here.events.listen(flow, () => heard++);
    expect(await here.publisher.pubsub('NUMSUB', flowChannel(flow))).toEqual([flowChannel(flow), 1]);
    there.events.published(flow, 2);
    await eventually(() => heard === 1, 'the change to be heard');

    unlisten();
    unlisten();
    await eventually(async () => (await here.publisher.pubsub('NUMSUB', flowChannel(flow)))[1] === 0, 'the channel to be released');
    expect(here.events.listenerCount()).toBe(0);
  });

  it('two listeners of one flow share one channel subscription, released with the last of them', async () => {
    const { events: bus, publisher } = events();
    const flow = key();
    const heard: string[] = [];
    const first = await bus.listen(flow, () => heard.push('first'));
    const second = await bus.listen(flow, () => heard.push('second'));
    expect(bus.listenerCount()).toBe(2);
    bus.published(flow, 2);
    await eventually(() => heard.length === 2, 'both listeners to hear it');
    first();
    expect((await publisher.pubsub('NUMSUB', flowChannel(flow)))[1]).toBe(1);
    second();
    await eventually(async () => (await publisher.pubsub('NUMSUB', flowChannel(flow)))[1] === 0, 'the channel to be released');
  });

  it('after the subscriber connection drops, listeners are woken to re-read once it is back (what was published meanwhile is gone)', async () => {
    const { events: bus, subscriber } = events();
    const other = events();
    const flow = key();
    let wakes = 0;
    await bus.listen(flow, () => wakes++);
    subscriber.stream.destroy();
    await eventually(() => subscriber.status !== 'ready', 'the connection to drop');
    other.events.published(flow, 2);
    await eventually(() => subscriber.status === 'ready', 'the connection to come back');
    await eventually(() => wakes >= 1, 'the listener to be woken after the reconnect');
    // And it is subscribed again.
    const before = wakes;
    other.events.published(flow, 3);
    await eventually(() => wakes > before, 'a later change to be heard');
  });

  it('with Redis unreachable, published() and listen() fail without an unhandled rejection', async () => {
    const failures: string[] = [];
    const unreachable = { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, lazyConnect: true };
    const bus = createFlowEvents({
      publishClient: connect('redis://127.0.0.1:1', unreachable),
      subscribeClient: connect('redis://127.0.0.1:1', unreachable),
      onError: (_error, command) => failures.push(command),
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      bus.published(key(), 2);
      await expect(bus.listen(key(), () => {})).rejects.toThrow();
      await eventually(() => failures.includes('PUBLISH') && failures.includes('SUBSCRIBE'), 'the failures to be reported');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(bus.listenerCount()).toBe(0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
