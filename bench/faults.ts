import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { describeMachine } from './lib/machine.js';
import { eventually, inBatches, startSharedProve, type SharedProve } from '../test/live/support.js';
import { FrontEnds, type Followed, type StartOutcome } from '../test/resilience/front-ends.js';
import { post, reap, redisServerBin, sleep, spawnGateway, startOwnRedis, type ChildGateway, type OwnRedis } from '../test/resilience/support.js';

/**
 * `npm run faults`: the store and instance fault figures of bench/ANALYSIS.md ("Store faults"),
 * measured on this checkout: two gateway instances (`src/main.ts`, child processes) on a
 * redis-server of their own, the Prove emulator with injected faults, SIGKILL for Redis and for an
 * instance. Prints a Markdown table. Counts flows and SMS, not speed, so a loaded host changes
 * the timings of (c) only. Needs redis-server on PATH (or REDIS_SERVER_BIN).
 */

type Stats = { calls: Record<string, number>; unifyPerformed: Record<string, number> };
const statsOf = async (prove: SharedProve) => (await prove.sim.stats()) as unknown as Stats;
const calls = async (prove: SharedProve, endpoint: string) => (await statsOf(prove)).calls[endpoint] ?? 0;
const START = `mutation($input: StartUnifyInput!) { startUnify(input: $input) { __typename } }`;
const STATUS = `query($flowId: ID!) { unifyStatus(flowId: $flowId) { __typename ... on UnifyStatusPayload { flow { state } } } }`;
const MOBILE = { possessionType: 'MOBILE', phoneNumber: '2001004014' };

async function setUp(bin: string, appendOnly: boolean) {
  const [redis, prove] = await Promise.all([startOwnRedis(bin, { appendOnly }), startSharedProve()]);
  const env = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', ...prove.env };
  const [a, b] = await Promise.all([spawnGateway(env, { startTimeoutMs: 60_000 }), spawnGateway(env, { startTimeoutMs: 60_000 })]);
  const frontEnds = new FrontEnds(
    [
      { name: 'a', graphqlUrl: a.graphqlUrl, alive: true },
      { name: 'b', graphqlUrl: b.graphqlUrl, alive: true },
    ],
    30_000,
  );
  const tearDown = async () => {
    await frontEnds.close();
    await Promise.all([reap(a), reap(b)]);
    await prove.close();
    await redis.close();
  };
  return { redis, prove, a, b, frontEnds, tearDown };
}

const extraSms = (stats: Stats) => Object.values(stats.unifyPerformed).reduce((n, performed) => n + Math.max(0, performed - 1), 0);

/** (a) Redis dies while 20 starts are at Prove; then every client retries with its clientRequestId. */
async function redisDiesDuringUnify(bin: string): Promise<string> {
  const { redis, prove, a, frontEnds, tearDown } = await setUp(bin, true);
  try {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const before = await calls(prove, '/v3/unify');
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 1_500, count: ids.length });
    const first = Promise.all(ids.map((clientRequestId) => post(a.graphqlUrl, START, { input: { ...MOBILE, clientRequestId } })));
    await eventually(async () => (await calls(prove, '/v3/unify')) - before === ids.length, 'every unify at Prove', 30_000);
    await redis.kill();
    const answers = await first;
    const withFlow = answers.filter((r) => r.body?.data?.startUnify?.__typename === 'StartUnifyPayload').length;
    await redis.start();
    // The clients retry (same clientRequestId) through the other instance.
    const retried = await Promise.all(ids.map((clientRequestId) => frontEnds.start(1, { ...MOBILE, clientRequestId })));
    const stats = await statsOf(prove);
    const secondSms = ids.filter((id) => (stats.unifyPerformed[id] ?? 0) > 1).length;
    const sent = ids.filter((id) => (stats.unifyPerformed[id] ?? 0) >= 1).length;
    return `${sent}/20 sent an SMS; ${withFlow}/20 answered with their flow, ${20 - withFlow} with an error; retries: ${retried.filter((r) => r.kind === 'flow').length}/20 got their flow; second SMS on retry: ${secondSms}/20`;
  } finally {
    await tearDown();
  }
}

/** (b) Redis killed for about 3.5 s while 150 flows start, with or without an append-only file. */
async function redisKilledUnderLoad(bin: string, appendOnly: boolean): Promise<string> {
  const { redis, prove, frontEnds, tearDown } = await setUp(bin, appendOnly);
  try {
    const ids = Array.from({ length: 150 }, () => randomUUID());
    const starts: StartOutcome[] = [];
    const followers: Array<Promise<Followed> | undefined> = [];
    let answered = 0;
    const outage = (async () => {
      await eventually(() => answered >= 45, '45 starts answered', 120_000);
      await redis.kill();
      await sleep(3_500);
      await redis.start();
    })();
    await inBatches(ids, 15, async (clientRequestId, i) => {
      starts[i] = await frontEnds.start(i, { ...MOBILE, clientRequestId });
      answered++;
      const outcome = starts[i]!;
      if (outcome.kind === 'flow') {
        const follower = frontEnds.follow(i, outcome.flowId);
        followers[i] = follower.done;
        await follower.first;
      }
    });
    await outage;
    const finals: string[] = [];
    await inBatches(ids, 15, async (_id, i) => {
      const outcome = starts[i]!;
      if (outcome.kind !== 'flow') return;
      await prove.sim.authenticate({ authToken: outcome.authToken, otp: '1234' });
      finals[i] = await frontEnds.statusUntilFinal(i, outcome.flowId);
    });
    const followed = await Promise.all(followers);
    const flows = starts.filter((s) => s.kind === 'flow').length;
    const lost = starts.filter((s, i) => s.kind === 'flow' && (finals[i] !== 'VERIFIED' || followed[i]?.problem)).length;
    const failed = starts.filter((s) => s.kind === 'failed').length;
    const stats = await statsOf(prove);
    return `${flows} flows (${failed} starts failed); ${lost} lost; ${extraSms(stats)} extra SMS; ${frontEnds.pendingAnswers} stale PENDING`;
  } finally {
    await tearDown();
  }
}

/** (c) Instance A killed while it holds a flow's lease (its unify-status call at Prove), and while a start of its is at Prove. */
async function instanceKilledHoldingLease(bin: string): Promise<string> {
  const { prove, a, b, frontEnds, tearDown } = await setUp(bin, true);
  try {
    const outcome = await frontEnds.start(1, MOBILE);
    if (outcome.kind !== 'flow') throw new Error(`start failed: ${JSON.stringify(outcome)}`);
    const follower = frontEnds.follow(1, outcome.flowId);
    await follower.first;
    await prove.sim.authenticate({ authToken: outcome.authToken, otp: '1234' });
    await prove.sim.fault({ endpoint: '/v3/unify-status', latencyMs: 20_000, count: 1 });
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 3_000, count: 1 });
    const statusBefore = await calls(prove, '/v3/unify-status');
    const unifyBefore = await calls(prove, '/v3/unify');
    const clientRequestId = randomUUID();
    void post(a.graphqlUrl, STATUS, { flowId: outcome.flowId }).catch(() => {});
    void post(a.graphqlUrl, START, { input: { ...MOBILE, clientRequestId } }).catch(() => {});
    await eventually(
      async () => (await calls(prove, '/v3/unify-status')) > statusBefore && (await calls(prove, '/v3/unify')) > unifyBefore,
      "A's calls at Prove",
      30_000,
    );
    frontEnds.instances[0]!.alive = false;
    a.proc.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    const answer = await post(b.graphqlUrl, STATUS, { flowId: outcome.flowId });
    const answeredMs = Date.now() - killedAt;
    const state = answer.body?.data?.unifyStatus?.flow?.state ?? answer.body?.data?.unifyStatus?.__typename;
    const askedProve = (await calls(prove, '/v3/unify-status')) - statusBefore > 1;
    const followed = await follower.done;
    const retriedAt = Date.now();
    const retried = await frontEnds.start(1, { ...MOBILE, clientRequestId });
    const retriedSeconds = ((Date.now() - retriedAt) / 1000).toFixed(1);
    const performed = (await statsOf(prove)).unifyPerformed[clientRequestId] ?? 0;
    const unifyCalls = (await calls(prove, '/v3/unify')) - unifyBefore;
    return (
      `B answered after ${(answeredMs / 1000).toFixed(1)} s with ${state}, ${askedProve ? 'asking Prove' : 'without asking Prove'}; ` +
      `subscription: ${followed.finals.join(', ') || `no final state (${followed.events.join(', ')})`}; ` +
      `retried start (same clientRequestId, on B): ${
        retried.kind === 'failed'
          ? `still ${retried.answer.includes('in progress') ? '"in progress" (retryable)' : retried.answer} after 30 s of retries`
          : retried.kind === 'unknown'
            ? `"it may have sent the SMS" (not retryable) after ${retriedSeconds} s`
            : `its flow after ${retriedSeconds} s`
      }, ` +
      `${unifyCalls} unify call(s), ${performed} performed`
    );
  } finally {
    await tearDown();
  }
}

const bin = redisServerBin();
if (!bin) throw new Error('npm run faults needs redis-server (PATH or REDIS_SERVER_BIN)');
console.log(`${describeMachine()}; load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const rows: Array<[string, string]> = [];
rows.push(['(a) Redis dies between unify and saving (20 starts)', await redisDiesDuringUnify(bin)]);
rows.push(['(b) Redis killed ~3.5 s under 150 flows, no persistence', await redisKilledUnderLoad(bin, false)]);
rows.push(['(b) Redis killed ~3.5 s under 150 flows, AOF', await redisKilledUnderLoad(bin, true)]);
rows.push(['(c) an instance killed holding a flow lease', await instanceKilledHoldingLease(bin)]);
console.log(`\nload average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n\n| scenario | measured |\n|---|---|`);
for (const [scenario, figures] of rows) console.log(`| ${scenario} | ${figures} |`);
process.exit(0);
