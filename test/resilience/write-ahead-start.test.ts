import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { start, status, stored } from '../support/flows.js';
import { eventually, inBatches, startSharedProve, type SharedProve } from '../live/support.js';
import { redisServerBin, startOwnRedis, type OwnRedis } from './support.js';

/**
 * At most one SMS per start: two gateways on a Redis of our own with the README's persistence
 * (append-only file, fsync always), killed (SIGKILL) while Prove is working on starts, and the emulator's worst case, a
 * unify Prove performed whose answer never reached the gateway. The emulator counts the unify
 * sessions it opened per clientRequestId (/sim/stats unifyPerformed): each is an SMS to a person.
 */

const bin = redisServerBin();
if (!bin && process.env.CI) throw new Error('test/resilience: CI needs redis-server (REDIS_SERVER_BIN or PATH) for the write-ahead start suite');

type Stats = { calls: Record<string, number>; unifyPerformed: Record<string, number> };
const statsOf = async (prove: SharedProve) => (await prove.sim.stats()) as unknown as Stats;
const performed = async (prove: SharedProve, id: string) => (await statsOf(prove)).unifyPerformed[id] ?? 0;

describe.skipIf(!bin)('write-ahead start', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!, { appendOnly: true }), startSharedProve()]);
    const env = { REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', ...prove.env };
    // Prove's timeout well above the injected latencies, even on a busy machine: a timed-out
    // unify is a different case (its outcome is unknown), tested below with dropAnswer.
    const options = { prove: { timeoutMs: 15_000 } };
    [a, b] = await Promise.all([startGateway(env, options), startGateway(env, options)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await prove?.close();
    await redis?.close();
  });

  it('Redis killed while Prove works on 20 starts: each gets its flow, retries get the same flow, no second unify', async () => {
    // Public callers' ids replay only when unguessable (UUID v4).
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const before = (await statsOf(prove)).calls['/v3/unify'] ?? 0;
    // Prove answers after 1.5 s; Redis dies once all 20 unify calls have reached it.
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 1_500, count: 20 });
    const first = Promise.all(ids.map((clientRequestId) => start(a, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId })));
    await eventually(async () => ((await statsOf(prove)).calls['/v3/unify'] ?? 0) - before === 20, 'all 20 unify calls at Prove', 30_000);
    await redis.kill();
    const answers = await first;
    // Prove's answer came back after Redis had gone: the flow is the caller's all the same.
    for (const answer of answers) expect(answer.__typename).toBe('StartUnifyPayload');
    const flows = answers.map((answer) => (answer.__typename === 'StartUnifyPayload' ? answer : undefined)!);

    // The client retries while Redis is still down: the instance that holds the answer gives it again.
    for (const [i, clientRequestId] of ids.entries()) {
      const again = await start(a, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId });
      expect(again.__typename === 'StartUnifyPayload' && again.flow.id).toBe(flows[i]!.flow.id);
    }
    // On the other instance, the store is unreachable: a typed retryable error, and nothing sent.
    const elsewhere = await start(b, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId: ids[0]! });
    expect(elsewhere).toMatchObject({ __typename: 'UpstreamError', retryable: true });

    // Redis is back with its append-only file: the reservations survived. Until the kept answers
    // are written again (by themselves, within seconds), the other instance answers a retry with
    // "still in progress" (retryable), never a second unify; then with the same flow.
    await redis.start();
    const settled = new Set<string>();
    await eventually(async () => {
      await inBatches(ids, 5, async (clientRequestId, i) => {
        if (settled.has(clientRequestId)) return;
        const again = await start(b, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId });
        if (again.__typename === 'StartUnifyPayload') {
          expect(again.flow.id).toBe(flows[i]!.flow.id);
          settled.add(clientRequestId);
        } else {
          expect(again).toMatchObject({ __typename: 'UpstreamError', retryable: true });
        }
      });
      return settled.size === ids.length;
    }, 'every retry on the other instance answered with its flow', 30_000);
    const stats = await statsOf(prove);
    expect(stats.calls['/v3/unify']! - before).toBe(20);
    for (const id of ids) expect(stats.unifyPerformed[id], id).toBe(1);

    // And the flows work: verified on one instance, seen on the other.
    await prove.sim.authenticate({ authToken: flows[0]!.authToken, otp: '1234' });
    const done = await status(b, flows[0]!.flow.id);
    expect(done.__typename === 'UnifyStatusPayload' && done.flow.state).toBe('VERIFIED');
    expect((await stored(a, flows[0]!.flow.id))?.state).toBe('VERIFIED');
  }, 120_000);

  it('the store unreachable before the call: Prove is not called', async () => {
    await redis.kill();
    try {
      const before = (await statsOf(prove)).calls['/v3/unify'] ?? 0;
      for (const gw of [a, b]) {
        for (const clientRequestId of ['store-down-1', undefined]) {
          const answer = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015', clientRequestId });
          expect(answer).toMatchObject({ __typename: 'UpstreamError', retryable: true });
        }
      }
      expect((await statsOf(prove)).calls['/v3/unify'] ?? 0).toBe(before);
    } finally {
      await redis.start();
    }
    // Once it is back the same clientRequestId starts normally, once.
    await eventually(async () => (await start(a, { possessionType: 'MOBILE', phoneNumber: '2001004015', clientRequestId: 'store-down-1' })).__typename === 'StartUnifyPayload', 'a start after the store came back', 30_000);
    expect(await performed(prove, 'store-down-1')).toBe(1);
  }, 60_000);

  it('Prove performed the unify and the answer was dropped: retries never send a second one', async () => {
    await prove.sim.fault({ endpoint: '/v3/unify', dropAnswer: true, count: 1 });
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004014', clientRequestId: randomUUID() };
    expect(await start(a, input)).toMatchObject({ __typename: 'UpstreamError', retryable: true });
    // The SMS went out: Prove's model opened the session.
    expect(await performed(prove, input.clientRequestId)).toBe(1);
    for (const gw of [a, b, a]) {
      const again = await start(gw, input);
      expect(again).toMatchObject({ __typename: 'UpstreamError', retryable: false });
      expect(again.__typename === 'UpstreamError' && again.message).toMatch(/may have sent the SMS/);
    }
    expect(await performed(prove, input.clientRequestId)).toBe(1);
    // A new clientRequestId is a new start.
    const fresh = await start(a, { ...input, clientRequestId: randomUUID() });
    expect(fresh.__typename).toBe('StartUnifyPayload');
  }, 60_000);

  it('the same start on two instances while Prove is slow: one unify, both get the same flow', async () => {
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 1_000, count: 1 });
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004015', clientRequestId: randomUUID() };
    const unifyBefore = (await statsOf(prove)).calls['/v3/unify'] ?? 0;
    const first = start(a, input);
    await eventually(async () => ((await statsOf(prove)).calls['/v3/unify'] ?? 0) > unifyBefore, 'the first unify at Prove', 30_000);
    const second = await start(b, input);
    const one = await first;
    expect(one.__typename).toBe('StartUnifyPayload');
    expect(second.__typename === 'StartUnifyPayload' && second.flow.id).toBe(one.__typename === 'StartUnifyPayload' && one.flow.id);
    expect(await performed(prove, input.clientRequestId)).toBe(1);
  }, 60_000);
});
