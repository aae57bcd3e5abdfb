import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { started, status } from '../support/flows.js';
import { liveClient, startSharedProve, stateOf, watchWs, type SharedProve } from '../live/support.js';
import { post, reap, redisServerBin, sleep, spawnGateway, startOwnRedis, type ChildGateway, type OwnRedis } from './support.js';

/**
 * An instance SIGKILLed while it holds a flow's lease, its unify-status call at Prove: the other
 * instance takes over within seconds (the lease is short and was only renewed while its holder
 * lived), asks Prove itself instead of answering the stale PENDING, and a subscriber hears the
 * final state.
 */

const bin = redisServerBin();
if (!bin && process.env.CI) throw new Error('test/resilience: CI needs redis-server (REDIS_SERVER_BIN or PATH) for the dead lease holder suite');

const STATUS = `query($id: ID!) { unifyStatus(flowId: $id) { __typename ... on UnifyStatusPayload { flow { state } } } }`;

describe.skipIf(!bin)('a lease holder killed mid-call', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let a: ChildGateway | undefined;
  let b: TestGateway;

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!), startSharedProve()]);
    [a, b] = await Promise.all([
      spawnGateway({ REDIS_URL: redis.url, ...prove.env }),
      startGateway({ REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', ...prove.env }),
    ]);
  });
  afterAll(async () => {
    await reap(a);
    await b?.close();
    await prove?.close();
    await redis?.close();
  });

  it('the other instance answers from Prove within seconds, and the subscriber gets VERIFIED', async () => {
    const { flow, authToken } = await started(b, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const client = liveClient(b.graphqlUrl);
    const watch = watchWs(client, flow.id);
    try {
      expect(stateOf(await watch.event(0))).toBe('PENDING');
      await prove.sim.authenticate({ authToken, otp: '1234' });

      // A asks Prove, which takes 20 s to answer: A holds the flow's lease meanwhile. Then A dies.
      await prove.sim.fault({ endpoint: '/v3/unify-status', latencyMs: 20_000, count: 1 });
      const calls = async () => (await prove.sim.stats()).calls['/v3/unify-status'] ?? 0;
      const before = await calls();
      void post(a!.graphqlUrl, STATUS, { id: flow.id }).catch(() => undefined);
      for (let i = 0; (await calls()) === before && i < 500; i++) await sleep(10);
      expect(await calls()).toBe(before + 1);
      a!.proc.kill('SIGKILL');
      await a!.exited;

      const t0 = performance.now();
      const answer = await status(b, flow.id);
      const tookMs = performance.now() - t0;
      // B asked Prove itself (a second status call) instead of answering the stale PENDING.
      expect(answer.__typename === 'UnifyStatusPayload' && answer.flow.state).toBe('VERIFIED');
      expect(await calls()).toBe(before + 2);
      // Seconds (the 3 s lease lapsing), not the 30 s a long lease held everyone back.
      expect(tookMs).toBeLessThan(10_000);
      expect(await watch.ended).toEqual({ how: 'complete' });
      expect(watch.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
    } finally {
      watch.stop();
      await client.dispose();
    }
  }, 60_000);
});
