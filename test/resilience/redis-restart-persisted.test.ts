import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { start, status } from '../support/flows.js';
import { eventually, inBatches, liveClient, startSharedProve, stateOf, watchWs, type SharedProve, type Watch } from '../live/support.js';
import { redisServerBin, sleep, startOwnRedis, type OwnRedis } from './support.js';

/**
 * The README's Redis configuration (append-only file, `appendfsync always`) under load: two
 * gateways, 50 flows started through either with a subscriber on the other, the devices
 * authenticating and the front ends asking for the outcome, and Redis killed with SIGKILL in the
 * middle of it and started again on the same port. No flow is lost, every subscriber gets exactly
 * one final state, and no person gets a second SMS (the emulator counts the unify sessions it
 * opens per clientRequestId).
 *
 * The clients behave as the README tells front ends to: a retryable UpstreamError is sent again
 * (the same clientRequestId for a start), to whichever instance the balancer picks.
 */

const bin = redisServerBin();

const FLOWS = 50;
/** Redis is killed once this many starts have been answered: the rest are at Prove or queued. */
const KILL_AFTER = 20;
const PHONE = '2001004014';

type Stats = { calls: Record<string, number>; unifyPerformed: Record<string, number> };

describe.skipIf(!bin)('Redis with AOF killed (SIGKILL) and restarted under 50 flows on two instances', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let gateways: TestGateway[];
  const clients: Client[][] = [];
  const watches: Watch[] = [];

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!, { appendOnly: true }), startSharedProve()]);
    const env = { REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', ...prove.env };
    // Prove's timeout above the injected latency even on a busy machine: a unify whose answer is
    // unknown is write-ahead-start.test.ts' case, not this one's.
    gateways = await Promise.all([startGateway(env, { prove: { timeoutMs: 15_000 } }), startGateway(env, { prove: { timeoutMs: 15_000 } })]);
    for (const gw of gateways) clients.push(Array.from({ length: 5 }, () => liveClient(gw.graphqlUrl)));
  });
  afterAll(async () => {
    for (const w of watches) w.stop();
    await Promise.all(clients.flat().map((c) => c.dispose()));
    await Promise.all((gateways ?? []).map((gw) => gw.close()));
    await prove?.close();
    await redis?.close();
  });

  /** Sends `call` again while it answers a retryable UpstreamError, alternating instances; bounded. */
  async function untilAnswered<T extends { __typename: string; retryable?: boolean }>(first: number, call: (gw: TestGateway) => Promise<T>, tally: { retries: number }): Promise<T> {
    const deadline = Date.now() + 45_000;
    for (let attempt = 0; ; attempt++) {
      const result = await call(gateways[(first + attempt) % 2]!);
      if (result.__typename !== 'UpstreamError' || result.retryable !== true || Date.now() > deadline) return result;
      tally.retries++;
      await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1_000));
    }
  }

  it('0 flows lost, one final state per subscriber, one SMS per start', async () => {
    const ids = Array.from({ length: FLOWS }, () => randomUUID());
    const tally = { retries: 0 };
    let answered = 0;
    // Prove takes its time with every start, so starts are on their way when Redis dies.
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 300, count: FLOWS });

    // Redis dies mid-load and comes back on the same port with its append-only file.
    let outageMs = 0;
    const outage = (async () => {
      await eventually(() => answered >= KILL_AFTER, `${KILL_AFTER} starts answered`, 60_000);
      const killedAt = Date.now();
      await redis.kill();
      await redis.start();
      outageMs = Date.now() - killedAt;
    })();

    const results = await inBatches(ids, 10, async (clientRequestId, i) => {
      const home = i % 2;
      const started = await untilAnswered(home, (gw) => start(gw, { possessionType: 'MOBILE', phoneNumber: PHONE, clientRequestId }), tally);
      answered++;
      if (started.__typename !== 'StartUnifyPayload') return { clientRequestId, started };
      // Watched through the other instance, from a socket shared with other flows.
      const watch = watchWs(clients[1 - home]![i % 5]!, started.flow.id);
      watches.push(watch);
      const firstEvent = stateOf(await watch.event(0, 30_000));
      await prove.sim.authenticate({ authToken: started.authToken, otp: '1234' });
      const finished = await untilAnswered(home, (gw) => status(gw, started.flow.id), tally);
      return { clientRequestId, started, watch, firstEvent, finished };
    });
    await outage;

    // Every start got its flow, and every flow reached VERIFIED through the front end's own call.
    for (const r of results) {
      expect(r.started.__typename, r.clientRequestId).toBe('StartUnifyPayload');
      expect(r.firstEvent, r.clientRequestId).toBe('PENDING');
      expect(r.finished?.__typename === 'UnifyStatusPayload' && r.finished.flow.state, r.clientRequestId).toBe('VERIFIED');
    }
    // Both instances still find every flow, and find it VERIFIED.
    for (const gw of gateways) {
      const again = await inBatches(results, 10, (r) => status(gw, r.started.__typename === 'StartUnifyPayload' ? r.started.flow.id : ''));
      expect(again.map((s) => s.__typename === 'UnifyStatusPayload' && s.flow.state)).toEqual(Array(FLOWS).fill('VERIFIED'));
    }
    // Every subscriber: PENDING first, then exactly one final state, VERIFIED, then complete.
    for (const r of results) {
      const watch = r.watch!;
      expect(await watch.ended, r.clientRequestId).toEqual({ how: 'complete' });
      const states = watch.events.map(stateOf);
      expect(states.filter((s) => s !== 'PENDING'), r.clientRequestId).toEqual(['VERIFIED']);
      expect(states.at(-1)).toBe('VERIFIED');
      expect(watch.graphqlErrors).toEqual([]);
    }
    // One SMS per start: one unify session per clientRequestId, however often a client retried.
    const stats = (await prove.sim.stats()) as unknown as Stats;
    for (const id of ids) expect(stats.unifyPerformed[id], id).toBe(1);
    expect(stats.calls['/v3/unify']).toBe(FLOWS);
    console.info(`redis-restart-persisted: outage ${outageMs} ms, ${tally.retries} client retries, ${FLOWS} flows, 0 lost`);
  }, 120_000);
});
