import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { start, status } from '../support/flows.js';
import { eventually, liveClient, startSharedProve, stateOf, watchWs, type SharedProve, type Watch } from '../live/support.js';
import { redisServerBin, startOwnRedis, type OwnRedis } from './support.js';
import type { Client } from 'graphql-ws';

/**
 * A flow whose start answer instance A holds in memory (Redis went away between unify and saving
 * it) is a started flow for instance B too: once Redis is back, and before A has written the
 * answer again, B answers for it with a retryable UpstreamError and its subscriptions wait, never
 * FlowNotFoundError. The mark written under the flow id when the start was reserved tells B so.
 */

const bin = redisServerBin();
if (!bin && process.env.CI) throw new Error('test/resilience: CI needs redis-server (REDIS_SERVER_BIN or PATH) for the pending start suite');

type Stats = { calls: Record<string, number> };
const unifyCalls = async (prove: SharedProve) => ((await prove.sim.stats()) as unknown as Stats).calls['/v3/unify'] ?? 0;

describe.skipIf(!bin)('a start held in one instance through a Redis restart', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let a: TestGateway;
  let b: TestGateway;
  const clients: Client[] = [];
  const watches: Watch[] = [];

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!, { appendOnly: true }), startSharedProve()]);
    const env = { REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', ...prove.env };
    const options = { prove: { timeoutMs: 15_000 } };
    [a, b] = await Promise.all([startGateway(env, options), startGateway(env, options)]);
  });
  afterAll(async () => {
    for (const w of watches) w.stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await Promise.all([a?.close(), b?.close()]);
    await prove?.close();
    await redis?.close();
  });

  it('the other instance answers "still being stored" and its subscribers get the flow, never FlowNotFoundError', async () => {
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const before = await unifyCalls(prove);
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 1_500, count: ids.length });
    const first = Promise.all(ids.map((clientRequestId) => start(a, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId })));
    await eventually(async () => (await unifyCalls(prove)) - before === ids.length, 'every unify at Prove', 30_000);
    await redis.kill();
    const answers = await first;
    const flows = answers.map((answer) => {
      if (answer.__typename !== 'StartUnifyPayload') throw new Error(`start failed: ${JSON.stringify(answer)}`);
      return answer;
    });

    // Redis comes back with its append-only file: the reservations are there, the flows are not
    // yet (A writes them again on its own backoff). B is asked at once.
    await redis.start();
    const asked = await Promise.all(flows.map(({ flow }) => status(b, flow.id)));
    for (const answer of asked) {
      expect(answer.__typename).not.toBe('FlowNotFoundError');
      if (answer.__typename !== 'UnifyStatusPayload') expect(answer).toMatchObject({ __typename: 'UpstreamError', retryable: true });
    }

    // Subscribers on B from the same moment: each gets the flow once A has stored it.
    const client = liveClient(b.graphqlUrl);
    clients.push(client);
    const onB = flows.map(({ flow }) => watchWs(client, flow.id));
    watches.push(...onB);
    for (const watch of onB) expect(stateOf(await watch.event(0, 30_000))).toBe('PENDING');

    for (const { authToken } of flows) await prove.sim.authenticate({ authToken, otp: '1234' });
    for (const { flow } of flows) {
      await eventually(async () => {
        const answer = await status(b, flow.id);
        return answer.__typename === 'UnifyStatusPayload' && answer.flow.state === 'VERIFIED';
      }, 'VERIFIED through B', 30_000);
    }
    for (const watch of onB) {
      expect(await watch.ended).toEqual({ how: 'complete' });
      expect(watch.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
    }
    expect((await unifyCalls(prove)) - before).toBe(ids.length);
  }, 120_000);
});
