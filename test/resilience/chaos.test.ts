import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, inBatches, startSharedProve, type SharedProve } from '../live/support.js';
import { FrontEnds, type Followed, type Instance, type StartOutcome } from './front-ends.js';
import { reap, redisServerBin, sleep, spawnGateway, startOwnRedis, type ChildGateway, type OwnRedis } from './support.js';

/**
 * Everything at once, bounded: two gateway instances (the real `src/main.ts`, child processes) on
 * a Redis with an append-only file fsynced every second, Prove failing now and then (5xx, calls
 * that hang until the gateway's timeout, answers dropped after Prove sent the SMS), 200 flows each
 * with a subscriber; Redis is killed (SIGKILL) and started again while the starts are under way,
 * then one instance is killed (SIGKILL) while the flows are being finished, and its front ends go
 * on with the other one. What must hold, whatever the timing:
 * - no flow lost: every start that answered with a flow ends VERIFIED;
 * - no extra SMS: Prove performed at most one unify per clientRequestId;
 * - every subscriber gets exactly one final state (resubscribing after its instance died or the
 *   store was away is the same subscriber), and never FlowNotFoundError;
 * - the surviving instance logs no error beyond the outages themselves.
 */

const bin = redisServerBin();
if (!bin && process.env.CI) throw new Error('test/resilience: CI needs redis-server (REDIS_SERVER_BIN or PATH) for the chaos suite');

const FLOWS = 200;
const CONCURRENCY = 20;

/** Error-level lines an outage causes by design: one when the store goes, one per lost connection, Prove's circuit. */
const EXPECTED_ERRORS = [/^store unavailable/, /^Redis connection lost/, /^Prove circuit open/];

type Stats = { calls: Record<string, number>; unifyPerformed: Record<string, number> };

function errorLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as { level?: number; msg?: string };
      } catch {
        return {};
      }
    })
    .filter((entry) => (entry.level ?? 0) >= 50 && !EXPECTED_ERRORS.some((expected) => expected.test(entry.msg ?? '')))
    .map((entry) => entry.msg ?? '');
}

describe.skipIf(!bin)('chaos: Redis and an instance killed under load, Prove failing', () => {
  let redis: OwnRedis;
  let prove: SharedProve;
  let a: ChildGateway | undefined;
  let b: ChildGateway | undefined;
  let frontEnds: FrontEnds | undefined;

  beforeAll(async () => {
    [redis, prove] = await Promise.all([startOwnRedis(bin!, { appendOnly: true, appendFsync: 'everysec' }), startSharedProve()]);
    const env = { REDIS_URL: redis.url, PROVE_TIMEOUT: '4s', ...prove.env };
    [a, b] = await Promise.all([spawnGateway(env, { startTimeoutMs: 60_000 }), spawnGateway(env, { startTimeoutMs: 60_000 })]);
  }, 90_000);
  afterAll(async () => {
    await frontEnds?.close();
    await Promise.all([reap(a), reap(b)]);
    await prove?.close();
    await redis?.close();
  });

  it('no flow lost, no extra SMS, one final state per subscriber', async () => {
    const instances: Instance[] = [
      { name: 'a', graphqlUrl: a!.graphqlUrl, alive: true },
      { name: 'b', graphqlUrl: b!.graphqlUrl, alive: true },
    ];
    frontEnds = new FrontEnds(instances);
    const fe = frontEnds;

    // Prove's faults, each for the next call of its endpoint: one in every few starts and status
    // calls, so they spread over the run whatever its speed.
    const unifyFaults = [{ status: 503 }, { dropAnswer: true }, { status: 500 }, { hang: true }, { dropAnswer: true }];
    const statusFaults = [{ status: 500 }, { latencyMs: 1_500 }, { status: 503 }, { hang: true }];
    const fault = (endpoint: string, spec: Record<string, unknown>) => prove.sim.fault({ endpoint, ...spec, count: 1 });

    // Phase 1: the starts, each followed by its subscriber. Redis dies once 70 have answered.
    const ids = Array.from({ length: FLOWS }, () => randomUUID());
    const starts: StartOutcome[] = [];
    const followers: Array<Promise<Followed> | undefined> = [];
    let answered = 0;
    const redisOutage = (async () => {
      await eventually(() => answered >= FLOWS * 0.35, 'a third of the starts answered', 120_000);
      await redis.kill();
      await sleep(2_000);
      await redis.start();
    })();
    await inBatches(ids, CONCURRENCY, async (clientRequestId, i) => {
      if (i % 8 === 4) await fault('/v3/unify', unifyFaults[(i >> 3) % unifyFaults.length]!);
      const outcome = await fe.start(i, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId });
      starts[i] = outcome;
      answered++;
      if (outcome.kind !== 'flow') return;
      const follower = fe.follow(i, outcome.flowId);
      followers[i] = follower.done;
      await follower.first;
    });
    await redisOutage;

    // Instance A held the answers Prove gave while Redis was away: they are all stored before it dies.
    if (/store refused a started flow/.test(a!.output())) {
      await eventually(() => /every kept flow is stored now/.test(a!.output()), "A's kept answers stored", 30_000);
    }

    // Phase 2: the devices finish and the front ends ask for the outcome; A dies a third of the way in.
    const finals: string[] = [];
    let asked = 0;
    const instanceDeath = (async () => {
      await eventually(() => asked >= FLOWS / 3, 'a third of the flows finished', 60_000);
      instances[0]!.alive = false;
      a!.proc.kill('SIGKILL');
      await a!.exited;
    })();
    await inBatches(ids, CONCURRENCY, async (_id, i) => {
      const outcome = starts[i]!;
      if (outcome.kind !== 'flow') return;
      if (i % 8 === 2) await fault('/v3/unify-status', statusFaults[(i >> 3) % statusFaults.length]!);
      await prove.sim.authenticate({ authToken: outcome.authToken, otp: '1234' });
      finals[i] = await fe.statusUntilFinal(i, outcome.flowId);
      asked++;
    });
    await instanceDeath;
    const followed = await Promise.all(followers);

    const flows = starts.filter((s) => s.kind === 'flow');
    const unknown = starts.filter((s) => s.kind === 'unknown');
    // Every start ended as a flow or as "it may have sent the SMS" (a dropped answer, a hang).
    expect(starts.filter((s) => s.kind === 'failed')).toEqual([]);
    expect(flows.length + unknown.length).toBe(FLOWS);
    expect(flows.length).toBeGreaterThan(FLOWS * 0.8);

    // No flow lost: each is VERIFIED for its front end and for its subscriber.
    const notVerified = starts.flatMap((s, i) => (s.kind === 'flow' && finals[i] !== 'VERIFIED' ? [`${i}: ${finals[i]}`] : []));
    expect(notVerified).toEqual([]);
    const subscriberProblems = followed.flatMap((f, i) =>
      f && (f.problem || f.finals.length !== 1 || f.finals[0] !== 'VERIFIED') ? [`${i}: ${JSON.stringify(f)}`] : [],
    );
    expect(subscriberProblems).toEqual([]);
    expect(followed.filter(Boolean)).toHaveLength(flows.length);

    // No extra SMS: at most one performed unify per clientRequestId, exactly one per flow.
    const stats = (await prove.sim.stats()) as unknown as Stats;
    const twice = Object.entries(stats.unifyPerformed).filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    for (const [i, s] of starts.entries()) if (s.kind === 'flow') expect(stats.unifyPerformed[ids[i]!], ids[i]).toBe(1);

    const retries = starts.reduce((n, s) => n + s.attempts - 1, 0);
    const resubscribed = followed.reduce((n, f) => n + (f ? f.subscriptions - 1 : 0), 0);
    console.log(`chaos: ${flows.length} flows, ${unknown.length} starts of unknown outcome, ${retries} start retries, ${resubscribed} resubscriptions, 0 lost`);

    // The survivor logged no error beyond the outages.
    expect(errorLines(b!.output())).toEqual([]);
    expect(b!.proc.exitCode).toBeNull();
  }, 240_000);
});
