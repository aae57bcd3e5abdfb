import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { start } from '../support/flows.js';
import { eventually, startSharedProve, type SharedProve } from '../live/support.js';
import { post, reap, redisServerBin, spawnGateway, startOwnRedis, type ChildGateway, type OwnRedis } from './support.js';

/**
 * The instance that reserved a start dies (SIGKILL) while its unify is at Prove. Its reservation is
 * left without a holder; nobody can tell whether Prove sent the SMS. A client retrying the start on
 * the other instance hears so within seconds ("it may have sent the SMS", not retryable), never a
 * second unify, and not "still in progress" for as long as the reservation lives.
 */

const bin = redisServerBin();
if (!bin && process.env.CI) throw new Error('test/resilience: CI needs redis-server (REDIS_SERVER_BIN or PATH) for the dead start holder suite');

const START = `mutation($input: StartUnifyInput!) { startUnify(input: $input) { __typename } }`;
type Stats = { calls: Record<string, number>; unifyPerformed: Record<string, number> };

describe.skipIf(!bin)('a start whose instance died at Prove', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let a: ChildGateway | undefined;
  let b: TestGateway;

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!, { appendOnly: true }), startSharedProve()]);
    [a, b] = await Promise.all([
      spawnGateway({ REDIS_URL: redis.url, ...prove.env }, { startTimeoutMs: 60_000 }),
      startGateway({ REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', ...prove.env }),
    ]);
  }, 90_000);
  afterAll(async () => {
    await reap(a);
    await b?.close();
    await prove?.close();
    await redis?.close();
  });

  it('the retry on the other instance answers "it may have sent the SMS" within seconds, with no second unify', async () => {
    const stats = async () => (await prove.sim.stats()) as unknown as Stats;
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004014', clientRequestId: randomUUID() };
    const before = (await stats()).calls['/v3/unify'] ?? 0;
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 3_000, count: 1 });
    const cutOff = post(a!.graphqlUrl, START, { input }).then(
      () => 'answered',
      () => 'connection lost',
    );
    await eventually(async () => ((await stats()).calls['/v3/unify'] ?? 0) > before, "A's unify at Prove", 30_000);
    a!.proc.kill('SIGKILL');
    await a!.exited;
    expect(await cutOff).toBe('connection lost');

    const retried = await start(b, input);
    expect(retried).toMatchObject({ __typename: 'UpstreamError', retryable: false });
    expect(retried.__typename === 'UpstreamError' && retried.message).toMatch(/may have sent the SMS/);
    // Settled: the next retry hears the same at once, and Prove was asked once in all.
    expect(await start(b, input)).toMatchObject({ __typename: 'UpstreamError', retryable: false });
    const after = await stats();
    expect((after.calls['/v3/unify'] ?? 0) - before).toBe(1);
    expect(after.unifyPerformed[input.clientRequestId] ?? 0).toBeLessThanOrEqual(1);

    // A new clientRequestId is a new start.
    expect((await start(b, { ...input, clientRequestId: randomUUID() })).__typename).toBe('StartUnifyPayload');
  }, 90_000);
});
