import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Client } from 'graphql-ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { start, status } from '../support/flows.js';
import { flowKey } from '../../src/store/flow-repository.js';
import { flowChannel } from '../../src/events/flow-events.js';
import {
  eventually, inBatches, liveClient, sharedRedis, startSharedProve, stateOf, timers, watchWs, type SharedProve, type Watch,
} from '../live/support.js';

/**
 * Live status under load, across two instances on one Redis: a thousand flows each watched by
 * its own subscriber, and thousands of subscribers coming and going.
 */

const base = await sharedRedis();
const REDIS_URL = base ? `${base.replace(/\/\d*$/, '')}/10` : '';
const CLIENTS_PER_INSTANCE = 8;
/**
 * Calls to Prove go through the shared upstream budget, which refuses a call it cannot fit in
 * within the call's wait (UpstreamError, retryable): on a busy machine slots fire too late to use
 * and are replaced. A front end retries those; so does this suite, which is about live status,
 * not about the budget.
 */
const PROVE_RATE_LIMIT = '500';

async function retrying<T extends { __typename: string }>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await call();
    if (result.__typename !== 'UpstreamError' || attempt === 20) return result;
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
  }
}

async function startedFlow(gw: TestGateway, phoneNumber: string) {
  const result = await retrying(() => start(gw, { possessionType: 'MOBILE', phoneNumber }));
  if (result.__typename !== 'StartUnifyPayload') throw new Error(`start failed: ${result.__typename}`);
  return result;
}

describe.skipIf(!base)('two instances under load', () => {
  let prove: SharedProve;
  let admin: Redis;
  let a: TestGateway;
  let b: TestGateway;
  let clientsOf: Map<TestGateway, Client[]>;
  const client = (gw: TestGateway, i: number) => clientsOf.get(gw)![i % CLIENTS_PER_INSTANCE]!;
  const channelSubscribers = async (flowIds: string[]) => {
    const reply = (await admin.pubsub('NUMSUB', ...flowIds.map((id) => flowChannel(flowKey(id))))) as (string | number)[];
    return reply.filter((_, i) => i % 2 === 1).reduce<number>((sum, n) => sum + Number(n), 0);
  };

  beforeAll(async () => {
    prove = await startSharedProve();
    admin = new Redis(REDIS_URL);
    const env = { REDIS_URL, PROVE_RATE_LIMIT, ...prove.env };
    [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
    clientsOf = new Map([a, b].map((gw) => [gw, Array.from({ length: CLIENTS_PER_INSTANCE }, () => liveClient(gw.graphqlUrl))]));
  });
  afterAll(async () => {
    await Promise.all([...(clientsOf?.values() ?? [])].flat().map((c) => c.dispose()));
    await Promise.all([a?.close(), b?.close()]);
    admin?.disconnect();
    await prove?.close();
  });

  it('1,000 concurrent flows, each with a subscriber, completed through both instances: every subscriber gets exactly one terminal event', async () => {
    const count = 1_000;
    // Flow i starts and finishes on one instance and is watched from the other.
    const via = (i: number) => (i % 2 ? a : b);
    const watchedFrom = (i: number) => (i % 2 ? b : a);

    const flows = await inBatches(Array.from({ length: count }, (_, i) => i), 50, (i) =>
      startedFlow(via(i), i % 3 ? '2001004014' : '2001004015'),
    );
    const watches: Watch[] = flows.map(({ flow }, i) => watchWs(client(watchedFrom(i), i), flow.id));
    await Promise.all(watches.map((w) => w.event(0, 20_000)));

    await inBatches(flows, 50, async ({ flow, authToken }, i) => {
      await prove.sim.authenticate({ authToken, otp: '1234' });
      const result = await retrying(() => status(via(i), flow.id));
      if (result.__typename !== 'UnifyStatusPayload') throw new Error(`flow ${i} ended as ${result.__typename}`);
    });
    const ends = await Promise.all(watches.map((w) => w.ended));

    expect(ends.filter((e) => e.how !== 'complete')).toEqual([]);
    const timelines = new Map<string, number>();
    for (const w of watches) {
      const line = w.events.map(stateOf).join(' > ');
      timelines.set(line, (timelines.get(line) ?? 0) + 1);
    }
    // None lost, none duplicated: each subscriber saw its flow pending, then verified, once.
    expect(Object.fromEntries(timelines)).toEqual({ 'PENDING > VERIFIED': count });
    expect(watches.every((w, i) => w.events.every((e) => e.__typename === 'UnifyStatusPayload' && e.flow.id === flows[i]!.flow.id))).toBe(true);

    await eventually(() => a.liveStats().flowListeners + b.liveStats().flowListeners === 0, 'every flow listener released');
    expect(await channelSubscribers(flows.map((f) => f.flow.id))).toBe(0);
  }, 60_000);

  it('after 5,000 subscribe/unsubscribe cycles, listeners, timers and Redis channel subscriptions are back at their baseline', async () => {
    // A handful of live (PENDING) flows, each watched and dropped over and over from both instances.
    const flows = await Promise.all(Array.from({ length: 10 }, (_, i) => startedFlow(i % 2 ? a : b, '2001004014')));
    const ids = flows.map((f) => f.flow.id);
    const cycle = async (i: number) => {
      const gw = i % 2 ? a : b;
      const watch = watchWs(client(gw, i >> 1), ids[i % ids.length]!);
      await watch.event(0);
      watch.stop();
    };
    // Warm up (first connections, JIT, pools), then take the baseline.
    await inBatches(Array.from({ length: 100 }, (_, i) => i), 50, cycle);
    const settled = () => a.liveStats().flowListeners + b.liveStats().flowListeners === 0;
    await eventually(settled, 'warm-up listeners released');
    await eventually(async () => (await channelSubscribers(ids)) === 0, 'warm-up channels released');
    const baseline = { timers: timers(), webSockets: a.liveStats().webSockets + b.liveStats().webSockets };
    // A listener leak on any emitter (sockets, Redis clients, abort signals) shows up as MaxListenersExceededWarning.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);

    const started5000 = Date.now();
    try {
      await inBatches(Array.from({ length: 5_000 }, (_, i) => i), 100, cycle);
    } finally {
      process.off('warning', onWarning);
    }
    const elapsed = Date.now() - started5000;

    await eventually(settled, 'listeners back to zero after 5,000 cycles');
    await eventually(async () => (await channelSubscribers(ids)) === 0, 'Redis channel subscriptions back to zero');
    await eventually(() => timers() <= baseline.timers, `timers back to ${baseline.timers} (now ${timers()})`);
    expect(a.liveStats().webSockets + b.liveStats().webSockets).toBe(baseline.webSockets);
    expect(warnings).toEqual([]);
    // The flows are still live and still watchable: releasing did not break anything.
    const last = watchWs(client(a, 0), ids[0]!);
    expect(stateOf(await last.event(0))).toBe('PENDING');
    last.stop();
    expect(elapsed).toBeLessThan(30_000);
  }, 60_000);
});
