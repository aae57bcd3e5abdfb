import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import type { Client } from 'graphql-ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { start, status } from '../support/flows.js';
import { eventually, inBatches, liveClient, startSharedProve, stateOf, watchSse, watchWs, type SharedProve, type Watch } from '../live/support.js';
import { getJson, redisServerBin, retryingBudget, startOwnRedis, type OwnRedis } from './support.js';

/**
 * A Redis without persistence killed (SIGKILL) and started again empty under open flows, with
 * subscribers on two gateways: the flows are gone, and everyone hears so as a typed
 * FlowNotFoundError. Nobody is left watching PENDING for a flow that can never change again, and
 * nobody is told a lost flow is still PENDING. The same holds when the data goes while the
 * connection stays up (FLUSHALL, as after a failover to an empty replica).
 */

const bin = redisServerBin();

const FLOWS = 10;

/** Both instances' log lines (level and message). */
const lines: { level: number; msg: string }[] = [];
const log = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

describe.skipIf(!bin)('Redis restarted empty (no persistence) under open flows', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let a: TestGateway;
  let b: TestGateway;
  const clients: Client[] = [];
  const watches: Watch[] = [];

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!, { appendOnly: false }), startSharedProve()]);
    const env = { REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', ...prove.env };
    const logger = pino({ level: 'info' }, log);
    [a, b] = await Promise.all([startGateway(env, { logger }), startGateway(env, { logger })]);
  });
  afterAll(async () => {
    for (const w of watches) w.stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await Promise.all([a?.close(), b?.close()]);
    await prove?.close();
    await redis?.close();
  });

  it('every call about a lost flow answers FlowNotFoundError, and every subscriber gets it as its final event', async () => {
    const flows = await inBatches(Array.from({ length: FLOWS }, (_, i) => i), 5, async () => {
      const result = await retryingBudget(() => start(a, { possessionType: 'MOBILE', phoneNumber: '2001004014' }));
      if (result.__typename !== 'StartUnifyPayload') throw new Error(`start failed: ${JSON.stringify(result)}`);
      return result;
    });
    // Each flow watched on both instances, over graphql-ws; half of them over SSE as well.
    clients.push(liveClient(a.graphqlUrl), liveClient(b.graphqlUrl));
    const subscribers = flows.flatMap((f) => [watchWs(clients[0]!, f.flow.id), watchWs(clients[1]!, f.flow.id)]);
    const sse = flows.slice(0, FLOWS / 2).map((f) => watchSse(b.graphqlUrl, f.flow.id));
    watches.push(...subscribers, ...sse);
    await Promise.all(watches.map(async (w) => expect(stateOf(await w.event(0))).toBe('PENDING')));

    await redis.kill();
    await redis.start();
    // Both instances find their store again by themselves.
    await eventually(async () => (await getJson(`${a.url}/ready`)).status === 200 && (await getJson(`${b.url}/ready`)).status === 200, 'both instances ready again', 15_000);

    // Every subscriber ends with the typed error, once, and says why.
    for (const watch of watches) {
      expect(await watch.ended).toEqual({ how: 'complete' });
      expect(watch.events.map(stateOf)).toEqual(['PENDING', 'FlowNotFoundError']);
      const last = watch.events[1]!;
      expect(last).toMatchObject({ code: 'FLOW_NOT_FOUND' });
      expect('message' in last && last.message).toMatch(/no longer stored/);
      expect(watch.graphqlErrors).toEqual([]);
    }

    // The device finishes anyway: the gateway no longer knows the flow, on either instance.
    await prove.sim.authenticate({ authToken: flows[0]!.authToken, otp: '1234' });
    for (const gw of [a, b]) {
      for (const f of flows) expect(await status(gw, f.flow.id)).toMatchObject({ __typename: 'FlowNotFoundError', code: 'FLOW_NOT_FOUND' });
      // flow(id) has no error union in the contract: null, "no flow has this id", and no error.
      const read = await gw.raw<{ flow: unknown }>({ query: 'query($id: ID!) { flow(id: $id) { state } }', variables: { id: flows[1]!.flow.id } });
      expect(read.body).toEqual({ data: { flow: null } });
    }
    // A subscription opened now answers the same at once.
    const late = watchWs(clients[1]!, flows[2]!.flow.id);
    watches.push(late);
    expect(await late.ended).toEqual({ how: 'complete' });
    expect(late.events.map(stateOf)).toEqual(['FlowNotFoundError']);

    // Nothing was sent to Prove again on the way: one unify per flow.
    const stats = (await prove.sim.stats()) as unknown as { calls: Record<string, number> };
    expect(stats.calls['/v3/unify']).toBe(FLOWS);
    // The outage itself is logged as one (error level, like redis-outage.test.ts); a lost flow is
    // not a fault of the gateway: no masked error, no other error-level line.
    const outage = /^(Redis connection lost|store unavailable)/;
    expect(lines.filter((l) => l.level >= 50 && !outage.test(l.msg)).map((l) => l.msg)).toEqual([]);
  }, 60_000);

  it('data flushed while the connection stays up: the subscriber hears FlowNotFoundError by the flow\'s expiry at the latest', async () => {
    // A short flow lifetime: with no reconnect to wake it, the watcher's next read is at expiry.
    const c = await startGateway({ REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', FLOW_TTL: '3s', ...prove.env });
    const client = liveClient(c.graphqlUrl);
    try {
      const started = await retryingBudget(() => start(c, { possessionType: 'MOBILE', phoneNumber: '2001004015' }));
      if (started.__typename !== 'StartUnifyPayload') throw new Error(`start failed: ${JSON.stringify(started)}`);
      const watch = watchWs(client, started.flow.id);
      watches.push(watch);
      expect(stateOf(await watch.event(0))).toBe('PENDING');

      const admin = new Redis(redis.url);
      await admin.flushall();
      admin.disconnect();

      expect(await watch.ended).toEqual({ how: 'complete' });
      expect(watch.events.map(stateOf)).toEqual(['PENDING', 'FlowNotFoundError']);
      expect(await status(c, started.flow.id)).toMatchObject({ __typename: 'FlowNotFoundError' });
    } finally {
      await client.dispose();
      await c.close();
    }
  }, 60_000);
});
