import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import type { Client } from 'graphql-ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { start, started, status, trusted } from '../support/flows.js';
import { openRedisCluster, redisClusterAvailable, startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { eventually, liveClient, startSharedProve, stateOf, watchWs, type SharedProve, type Watch } from '../live/support.js';
import { freePort, getJson, redisServerBin } from '../resilience/support.js';
import { flowKey } from '../../src/store/flow-repository.js';
import { flowChannel } from '../../src/events/flow-events.js';
import { redisBudget } from '../../src/security/upstream-budget.js';
import { redisLocks } from '../../src/store/locks.js';
import { takeLease, waitWhileHeld } from '../../src/store/leases.js';

/**
 * The gateway on a Redis Cluster of three masters (REDIS_CLUSTER=on): flows, their keys spread
 * over every master; notifications as sharded pub/sub; the upstream budget, send limits and leases
 * shared through the cluster by two instances, as behind a load balancer.
 */

const available = redisClusterAvailable();

describe.skipIf(!available)('two instances on a Redis Cluster', () => {
  let c: RedisCluster;
  let prove: SharedProve;
  let admin: Cluster;
  const gateways: TestGateway[] = [];
  const clients: Client[] = [];
  const watches: Watch[] = [];
  const instance = async (extra: Record<string, string> = {}) => {
    const gw = await startGateway({ REDIS_URL: c.url, REDIS_CLUSTER: 'on', PROVE_RATE_LIMIT: '10000', ...prove.env, ...extra });
    gateways.push(gw);
    return gw;
  };
  /** The master that holds `key` ("host:port"), undefined when the key is not there. */
  const ownerOf = async (key: string) => {
    if ((await admin.exists(key)) !== 1) return undefined;
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
    return admin.slots[slot]?.[0];
  };
  /** Subscribers of a flow's channel on the master owning its slot: sharded, and plain (always 0 here). */
  const channelSubscribers = async (flowId: string) => {
    const channel = flowChannel(flowKey(flowId));
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', channel));
    const owner = admin.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === admin.slots[slot]?.[0])!;
    const [, sharded] = (await owner.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
    const plain = await Promise.all(admin.nodes('master').map(async (node) => ((await node.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]));
    return { sharded: Number(sharded), plain: plain.reduce((sum, n) => sum + Number(n), 0) };
  };

  beforeAll(async () => {
    [c, prove] = await Promise.all([openRedisCluster(), startSharedProve()]);
    admin = new Cluster(c.nodes);
  });
  afterEach(async () => {
    for (const w of watches.splice(0)) w.stop();
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    await Promise.all(gateways.splice(0).map((gw) => gw.close()));
  });
  afterAll(async () => {
    admin?.disconnect();
    await prove?.close();
    await c?.close();
  });

  it('20 flows started on A (a retried start through B is the same flow), each watched and finished through B: every subscriber sees PENDING then VERIFIED; the flows live on every master', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const client = liveClient(b.graphqlUrl, trusted);
    clients.push(client);
    const unifyCalls = async () => ((await prove.sim.stats()) as unknown as { calls: Record<string, number> }).calls['/v3/unify'] ?? 0;
    const before = await unifyCalls();
    const run = `cluster-${Date.now()}`;
    const flows = await Promise.all(
      Array.from({ length: 20 }, (_, i) => started(a, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId: `${run}-${i}` }, trusted)),
    );
    expect(flows).toHaveLength(20);
    // Each start's reservation is in the cluster: the same clientRequestId through B is the same flow, and no second unify.
    const again = await started(b, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId: `${run}-7` }, trusted);
    expect(again.flow.id).toBe(flows[7]!.flow.id);
    expect((await unifyCalls()) - before).toBe(20);

    const owners = new Set<string | undefined>();
    for (const { flow } of flows) owners.add(await ownerOf(`unify::flow:${flowKey(flow.id)}`));
    expect(owners.has(undefined)).toBe(false);
    expect(owners.size).toBe(3);

    const onB = flows.map(({ flow }) => {
      const watch = watchWs(client, flow.id);
      watches.push(watch);
      return watch;
    });
    for (const watch of onB) expect(stateOf(await watch.event(0))).toBe('PENDING');
    // One sharded subscription (instance B's) on the master that owns the channel's slot.
    expect(await channelSubscribers(flows[0]!.flow.id)).toEqual({ sharded: 1, plain: 0 });
    for (const { flow, authToken } of flows) {
      await prove.sim.authenticate({ authToken, otp: '1234' });
      expect((await status(b, flow.id, trusted)).__typename).toBe('UnifyStatusPayload');
    }
    for (const watch of onB) {
      expect(await watch.ended).toEqual({ how: 'complete' });
      expect(watch.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
    }
    await eventually(async () => (await channelSubscribers(flows[0]!.flow.id)).sharded === 0, 'B to let go of the channel');
  });

  it('send limits count across instances: two starts on A and one on B use up the number', async () => {
    // An API key of this run's own (trusted counts are per key and number): the cluster outlives the test when .ci/run started it.
    const apiKey = `cluster-limits-${randomUUID()}`;
    const limits = { START_LIMIT_PER_NUMBER_TRUSTED: '3/1m', GATEWAY_API_KEYS: apiKey };
    const [a, b] = await Promise.all([instance(limits), instance(limits)]);
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004041' };
    expect((await start(a, input, { apiKey })).__typename).toBe('StartUnifyPayload');
    expect((await start(a, input, { apiKey })).__typename).toBe('StartUnifyPayload');
    expect((await start(b, input, { apiKey })).__typename).toBe('StartUnifyPayload');
    expect((await start(b, input, { apiKey })).__typename).toBe('RateLimitedError');
    expect((await start(a, input, { apiKey })).__typename).toBe('RateLimitedError');
  });

  it('the upstream budget is one for every instance: a slot taken through one client is taken for the other', async () => {
    const other = new Cluster(c.nodes);
    try {
      const key = `unify:upstream-budget:test-${Date.now()}`;
      // One call a second: the next slot is about a second away, far more than the 0 ms the second caller will wait.
      const [one, two] = [redisBudget(admin, 1, key), redisBudget(other, 1, key)];
      expect(await one.reserve(0)).toBe(0);
      const refused = await two.reserve(0);
      expect(refused).toBeGreaterThan(0);
      // Refused takes nothing: a caller willing to wait gets the very next slot.
      expect(await two.reserve(10_000)).toBeLessThanOrEqual(refused);
    } finally {
      other.disconnect();
    }
  });

  it('leases: a holder that dies without releasing frees its lease within its time to live; a live one keeps it', async () => {
    const doomed = new Cluster(c.nodes);
    const survivor = new Cluster(c.nodes);
    try {
      const name = `flow-test-${Date.now()}`;
      // Two seconds, renewed every third of that: room for a loaded machine's late timers.
      const held = await takeLease(redisLocks(doomed), name, 2_000);
      expect(held).toBeDefined();
      const rival = redisLocks(survivor);
      expect(await rival.acquire(name, 2_000)).toBeUndefined();
      // Renewed while its holder lives, past its time to live.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(held!.kept).toBe(true);
      expect(await rival.held(name)).toBe(true);
      // The holder's connection dies (as with SIGKILL): no release, no more renewals.
      doomed.disconnect();
      expect(await waitWhileHeld(rival, name, 10_000)).toBe(true);
      const taken = await rival.acquire(name, 2_000);
      expect(taken).toBeDefined();
      await taken!();
      expect(await rival.held(name)).toBe(false);
    } finally {
      doomed.disconnect();
      survivor.disconnect();
    }
  });

  it('REDIS_CLUSTER left off on a cluster: /ready answers 503 and says to set it', async () => {
    const gw = await instance({ REDIS_CLUSTER: 'off', REDIS_URL: `redis://${c.nodes[0]!.host}:${c.nodes[0]!.port}` });
    const ready = await getJson(`${gw.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.problems).toContainEqual(expect.stringMatching(/^redis: .*set REDIS_CLUSTER=on/));
  });

  it('/ready: 200 with the cluster named ok and every slot served', async () => {
    const gw = await instance();
    const ready = await getJson(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({
      store: { ok: true, kind: 'redis' },
      pubsub: { ok: true },
      cluster: { ok: true, state: 'ok', slotsOk: 16384 },
    });
  });
});

const bin = available ? redisServerBin() : undefined;

describe.skipIf(!bin)('a Redis Cluster that loses a master', () => {
  let own: RedisCluster;
  let prove: SharedProve;
  let gw: TestGateway | undefined;

  beforeAll(async () => {
    [own, prove] = await Promise.all([startRedisCluster(bin!), startSharedProve()]);
  });
  afterAll(async () => {
    await gw?.close();
    await prove?.close();
    await own?.close();
  });

  it('a master killed (no replica takes over): /ready answers 503 naming the cluster; a start is a retryable UpstreamError that never reached Prove', async () => {
    gw = await startGateway({ REDIS_URL: own.url, REDIS_CLUSTER: 'on', ...prove.env });
    expect((await getJson(`${gw.url}/ready`)).status).toBe(200);
    await own.kill(2);
    let last: { status: number; body: any } | undefined;
    await eventually(async () => (last = await getJson(`${gw!.url}/ready`)).status === 503, '/ready to answer 503', 15_000);
    expect(last!.body.status).toBe('not ready');
    expect(last!.body.checks.cluster.ok).toBe(false);
    expect(last!.body.problems.join('\n')).toMatch(/^cluster: /m);
    // The nodes agree on the failure (cluster-node-timeout, 2 s here): the state itself says so.
    await eventually(async () => (last = await getJson(`${gw!.url}/ready`)).body.checks.cluster.state === 'fail', 'cluster_state:fail', 15_000);
    expect(last!.status).toBe(503);

    // Every node now refuses commands (CLUSTERDOWN): a start is a retryable UpstreamError, and
    // nothing reaches Prove, since the start could not be reserved first.
    const unifyCalls = async () => ((await prove.sim.stats()) as unknown as { calls: Record<string, number> }).calls['/v3/unify'] ?? 0;
    const before = await unifyCalls();
    const refused = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId: `down-${Date.now()}` }, trusted);
    expect(refused).toMatchObject({ __typename: 'UpstreamError', retryable: true });
    expect(await unifyCalls()).toBe(before);
  });
});

/**
 * Three masters with a replica each: the master owning a watched flow's channel is killed, its
 * replica takes over, the cluster client re-subscribes the channel on it, and the flow finished
 * afterwards reaches the subscriber (by the message, or by the re-read after re-subscribing).
 */
describe.skipIf(!bin)('a Redis Cluster whose master fails over to its replica', () => {
  let own: RedisCluster;
  let prove: SharedProve;
  let admin: Cluster;
  const gateways: TestGateway[] = [];
  let client: Client | undefined;
  const watches: Watch[] = [];

  beforeAll(async () => {
    [own, prove] = await Promise.all([startRedisCluster(bin!, { replicas: true }), startSharedProve()]);
    admin = new Cluster(own.nodes);
  });
  afterAll(async () => {
    for (const w of watches) w.stop();
    await client?.dispose();
    await Promise.all(gateways.map((gw) => gw.close()));
    admin?.disconnect();
    await prove?.close();
    await own?.close();
  });

  it('a subscriber whose flow channel lived on the killed master still gets the final state; /ready is 200 once the replica took over', async () => {
    const env = { REDIS_URL: own.url, REDIS_CLUSTER: 'on', PROVE_RATE_LIMIT: '10000', ...prove.env };
    const [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
    gateways.push(a, b);
    client = liveClient(b.graphqlUrl, trusted);
    // Flows until one's channel hashes to the first master's slots (a third of them do).
    const portOf = async (key: string) => Number(admin.slots[Number(await admin.call('CLUSTER', 'KEYSLOT', key))]![0]!.split(':')[1]);
    let chosen: Awaited<ReturnType<typeof started>> | undefined;
    for (let i = 0; i < 30 && !chosen; i++) {
      const flow = await started(a, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId: `failover-${Date.now()}-${i}` }, trusted);
      if ((await portOf(flowChannel(flowKey(flow.flow.id)))) === own.nodes[0]!.port) chosen = flow;
    }
    expect(chosen).toBeDefined();
    const watch = watchWs(client, chosen!.flow.id);
    watches.push(watch);
    expect(stateOf(await watch.event(0))).toBe('PENDING');

    await own.kill(0);
    // Its replica takes over once the others agree it failed (cluster-node-timeout, 2 s here).
    await eventually(async () => (await getJson(`${b.url}/ready`)).status === 200, 'B ready after the failover', 20_000);
    await prove.sim.authenticate({ authToken: chosen!.authToken, otp: '1234' });
    // A finishes the flow (a retry while A's client learns the new slot map is a retryable UpstreamError).
    await eventually(async () => (await status(a, chosen!.flow.id, trusted)).__typename === 'UnifyStatusPayload', 'A to finish the flow', 20_000);
    expect(await watch.ended).toEqual({ how: 'complete' });
    expect(watch.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
  });
});

describe('REDIS_CLUSTER=on with no node reachable', () => {
  it('the gateway still starts (within seconds), /ready answers 503 naming the cluster, and a start is a retryable UpstreamError', async () => {
    const gw = await startGateway({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_CLUSTER: 'on' });
    try {
      const ready = await getJson(`${gw.url}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body.problems).toContain('cluster: no master reachable');
      const refused = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, trusted);
      expect(refused).toMatchObject({ __typename: 'UpstreamError', retryable: true });
    } finally {
      await gw.close();
    }
  });
});
