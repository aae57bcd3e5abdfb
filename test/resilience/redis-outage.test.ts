import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Client } from 'graphql-ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { start, status } from '../support/flows.js';
import { inBatches, liveClient, startSharedProve, stateOf, watchSse, watchWs, type SharedProve, type Watch } from '../live/support.js';
import { getJson, redisServerBin, retryingBudget, sleep, startOwnRedis, type OwnRedis } from './support.js';

/**
 * A Redis of our own, stopped (SHUTDOWN SAVE, as a Redis with persistence stops) and started
 * again on the same port while 100 flows are open, each with a subscriber on a gateway that stays
 * up. During the outage every call answers with a typed, retryable error (never "not found"), no
 * unify reaches Prove, and /ready says what is wrong; afterwards the gateway recovers by itself and
 * every subscriber receives its flow's terminal state exactly once.
 */

const bin = redisServerBin();

const FLOWS = 100;

/** The gateway's log lines, as messages. */
const lines: string[] = [];
const log = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line).msg);
    done();
  },
});
const count = (msg: string) => lines.filter((l) => l.startsWith(msg)).length;

describe.skipIf(!bin)('Redis stopped and restarted under 100 open flows with subscribers', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let gw: TestGateway;
  const clients: Client[] = [];
  const watches: Watch[] = [];

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!), startSharedProve()]);
    gw = await startGateway({ REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', ...prove.env }, { logger: pino({ level: 'info' }, log) });
  });
  afterAll(async () => {
    for (const w of watches) w.stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await gw?.close();
    await prove?.close();
    await redis?.close();
  });

  it('every flow reaches its terminal state and every subscriber gets it once', async () => {
    const flows = await inBatches(Array.from({ length: FLOWS }, (_, i) => i), 20, async (i) => {
      const result = await retryingBudget(() => start(gw, { possessionType: 'MOBILE', phoneNumber: i % 2 ? '2001004014' : '2001004015' }));
      if (result.__typename !== 'StartUnifyPayload') throw new Error(`start failed: ${JSON.stringify(result)}`);
      return result;
    });
    // 100 subscribers over graphql-ws (10 sockets), and 20 of the flows watched over SSE as well.
    for (let i = 0; i < 10; i++) clients.push(liveClient(gw.graphqlUrl));
    const subscribers = flows.map((f, i) => watchWs(clients[i % 10]!, f.flow.id));
    const sse = flows.slice(0, 20).map((f) => watchSse(gw.graphqlUrl, f.flow.id));
    watches.push(...subscribers, ...sse);
    await Promise.all([...subscribers, ...sse].map(async (w) => expect(stateOf(await w.event(0))).toBe('PENDING')));

    // Half the devices finish before the outage, half during it.
    await inBatches(flows.slice(0, 50), 20, (f) => prove.sim.authenticate({ authToken: f.authToken, otp: '1234' }));

    await redis.stop();
    const down = await getJson(`${gw.url}/ready`);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('not ready');
    expect(down.body.checks.store.ok).toBe(false);
    expect(down.body.problems.join('\n')).toMatch(/store: /);

    // During the outage: typed, retryable errors; never "not found", never a start that reaches Prove.
    const unifyCalls = (await prove.sim.stats()).calls['/v3/unify'];
    const asked = await status(gw, flows[0]!.flow.id);
    expect(asked).toMatchObject({ __typename: 'UpstreamError', code: 'UPSTREAM_UNAVAILABLE', retryable: true, upstreamStatus: null });
    expect(asked.__typename === 'UpstreamError' && asked.message).toMatch(/store/);
    const refused = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    expect(refused).toMatchObject({ __typename: 'UpstreamError', retryable: true });
    const read = await gw.raw<{ flow: unknown }>({ query: 'query($id: ID!) { flow(id: $id) { state } }', variables: { id: flows[1]!.flow.id } });
    // flow(id) has no error union: the store's outage is an error entry with the code to act on.
    expect(read.body.errors).toHaveLength(1);
    expect(read.body.errors![0]).toMatchObject({ path: ['flow'], extensions: { code: 'UPSTREAM_UNAVAILABLE', retryable: true } });
    expect(read.body.errors![0]!.message).toMatch(/store/);
    expect(read.body.data?.flow ?? null).toBeNull();
    expect((await prove.sim.stats()).calls['/v3/unify']).toBe(unifyCalls);
    await inBatches(flows.slice(50), 20, (f) => prove.sim.authenticate({ authToken: f.authToken, otp: '1234' }));
    // Nobody was told anything while the store was away.
    expect([...subscribers, ...sse].every((w) => w.events.length === 1)).toBe(true);

    await redis.start();
    const deadline = Date.now() + 10_000;
    while ((await getJson(`${gw.url}/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('the gateway did not become ready again within 10 s');
      await sleep(50);
    }

    // Every flow was kept (the data set came back with Redis) and completes.
    const results = await inBatches(flows, 20, (f) => retryingBudget(() => status(gw, f.flow.id)));
    expect(results.map((r) => r.__typename === 'UnifyStatusPayload' && r.flow.state)).toEqual(Array(FLOWS).fill('VERIFIED'));

    for (const watch of [...subscribers, ...sse]) {
      expect(await watch.ended).toEqual({ how: 'complete' });
      expect(watch.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
      expect(watch.graphqlErrors).toEqual([]);
    }

    // The log tells the story once, not once per request: lost, back.
    expect(count('store unavailable')).toBe(1);
    expect(count('store reachable again')).toBe(1);
    expect(count('Redis connection lost')).toBe(2);
    expect(count('Redis connection back')).toBe(2);
    // Nothing unexpected: the flow(id) read above is the store's outage, told once already.
    expect(count('unexpected error')).toBe(0);
  });
});
