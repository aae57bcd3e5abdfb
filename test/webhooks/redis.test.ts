import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { started, status } from '../support/flows.js';
import { eventually, inBatches, startSharedProve, type SharedProve } from '../live/support.js';
import { reap, redisServerBin, spawnGateway, startOwnRedis, type ChildGateway, type OwnRedis } from '../resilience/support.js';
import { newSecret, startReceiver, type Receiver } from './receiver.js';
import { FAST_RETRIES, metric } from './support.js';
import { replayFailedDeliveries } from '../../src/webhooks/replay.js';

/**
 * Redis mode: deliveries are BullMQ jobs in Redis (a redis-server of this suite's own), so any
 * instance delivers what any instance stored. Two instances racing on the same flows send each
 * transition once; an instance killed right after storing a transition still gets it delivered.
 */

const bin = redisServerBin();

describe.skipIf(!bin)('webhooks (Redis mode, BullMQ)', () => {
  const secret = newSecret();
  let redis: OwnRedis;
  let prove: SharedProve;
  let receiver: Receiver;
  let a: TestGateway;
  let b: TestGateway;
  let env: Record<string, string>;
  /** The instance the SIGKILL test kills: a real `src/main.ts`, started with the others (it takes a while). */
  let doomed: ChildGateway | undefined;

  beforeAll(async () => {
    [redis, prove, receiver] = await Promise.all([startOwnRedis(bin!), startSharedProve(), startReceiver(secret)]);
    env = { REDIS_URL: redis.url, PROVE_RATE_LIMIT: '10000', WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, ...FAST_RETRIES, ...prove.env };
    [a, b, doomed] = await Promise.all([startGateway(env), startGateway(env), spawnGateway({ ...env, LOG_LEVEL: 'warn' }, { startTimeoutMs: 50_000 })]);
  }, 60_000);
  afterAll(async () => {
    await reap(doomed);
    await a?.close();
    await b?.close();
    await receiver?.close();
    await prove?.close();
    await redis?.close();
  });

  const acceptedFor = (flowId: string) => receiver.accepted().filter((r) => r.verified?.data.flowId === flowId);

  it('two instances asked about the same flows at once (a third instance taking jobs too): exactly one delivery per transition', async () => {
    const flows = await inBatches(Array.from({ length: 16 }, (_, i) => i), 4, async (i) => (await started(i % 2 ? a : b, { possessionType: 'MOBILE', phoneNumber: '2001004018' })).flow.id);
    // Every flow asked through both instances together: one of them stores VERIFIED, the other reads it.
    await inBatches(flows, 4, async (id) => Promise.all([status(a, id), status(b, id), status(a, id)]));

    await eventually(() => flows.every((id) => acceptedFor(id).length > 0), 'every flow delivered', 15_000);
    await eventually(async () => (await metric(a.url, 'unify_webhook_queue_depth')) === 0, 'an empty queue');
    for (const id of flows) expect(acceptedFor(id)).toHaveLength(1);
    const ids = flows.map((id) => acceptedFor(id)[0]!.id);
    expect(new Set(ids).size).toBe(flows.length);
    // Nothing was sent twice, accepted or not.
    const sent = receiver.received.filter((r) => flows.includes(r.verified?.data.flowId));
    expect(sent).toHaveLength(flows.length);
    // Every worker's counters together (the child instance's worker takes jobs too): one delivery each.
    let delivered = 0;
    for (const gw of [a, b, doomed!]) delivered += (await metric(gw.url, 'unify_webhook_deliveries_total', { outcome: 'delivered' })) ?? 0;
    expect(delivered).toBe(flows.length);
  });

  it('every key of the queue carries the hash tag {unify-webhooks} (one Redis Cluster slot)', async () => {
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('*');
      const queueKeys = keys.filter((k) => k.includes('deliveries') || k.includes('undelivered'));
      expect(queueKeys.length).toBeGreaterThan(0);
      expect(queueKeys.filter((k) => !k.startsWith('{unify-webhooks}:'))).toEqual([]);
      // No flow id in a key: job ids are hashes.
      expect(keys.filter((k) => /[A-Za-z0-9_-]{24}$/.test(k) && !k.includes(':'))).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  it('the receiver down for a while: events wait in Redis (depth, age), /ready stays 200; all arrive once when it is back', async () => {
    await receiver.down();
    let flows: string[] = [];
    try {
      flows = await inBatches(Array.from({ length: 5 }, (_, i) => i), 5, async (i) => {
        const { flow } = await started(i % 2 ? a : b, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
        await status(i % 2 ? b : a, flow.id);
        return flow.id;
      });
      await eventually(async () => ((await metric(a.url, 'unify_webhook_deliveries_total', { outcome: 'retry' })) ?? 0) + ((await metric(b.url, 'unify_webhook_deliveries_total', { outcome: 'retry' })) ?? 0) >= 10, 'failed attempts');
      expect(await metric(a.url, 'unify_webhook_queue_depth')).toBe(5);
      expect(await metric(b.url, 'unify_webhook_oldest_undelivered_age_seconds')).toBeGreaterThan(0);
      expect((await fetch(`${a.url}/ready`)).status).toBe(200);
      expect((await fetch(`${b.url}/ready`)).status).toBe(200);
    } finally {
      await receiver.up();
    }
    await eventually(() => flows.every((id) => acceptedFor(id).length > 0), 'every event after the outage', 15_000);
    await eventually(async () => (await metric(a.url, 'unify_webhook_queue_depth')) === 0, 'an empty queue');
    for (const id of flows) expect(acceptedFor(id)).toHaveLength(1);
    expect(await metric(a.url, 'unify_webhook_oldest_undelivered_age_seconds')).toBe(0);
  });

  it('an instance SIGKILLed right after storing a transition: the event is still delivered, once', async () => {
    const killed = doomed!;
    await receiver.down();
    try {
      const start = await fetch(killed.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation($input: StartUnifyInput!) { startUnify(input: $input) { ... on StartUnifyPayload { flow { id } } } }',
          variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } },
        }),
      }).then((r) => r.json());
      const flowId: string = start.data.startUnify.flow.id;
      const asked = await fetch(killed.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query($id: ID!) { unifyStatus(flowId: $id) { ... on UnifyStatusPayload { flow { state } } } }', variables: { id: flowId } }),
      }).then((r) => r.json());
      expect(asked.data.unifyStatus.flow.state).toBe('VERIFIED');
      killed.proc.kill('SIGKILL');
      expect((await killed.exited).signal).toBe('SIGKILL');

      await receiver.up();
      // The survivors' workers take the job (one whose worker died mid-attempt after its lock lapses).
      await eventually(() => acceptedFor(flowId).length > 0, 'the event of the killed instance', 20_000);
      await eventually(async () => (await metric(a.url, 'unify_webhook_queue_depth')) === 0, 'an empty queue', 10_000);
      expect(acceptedFor(flowId)).toHaveLength(1);
      expect(acceptedFor(flowId)[0]!.verified!.type).toBe('flow.verified');
    } finally {
      await receiver.up().catch(() => {});
    }
  });

  it('a delivery the endpoint refused (400) is kept, and a replay sends it again with the same webhook-id', async () => {
    receiver.script([400]);
    const { flow } = await started(a, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
    await status(a, flow.id);
    const refused = async () => ((await metric(a.url, 'unify_webhook_deliveries_total', { outcome: 'rejected' })) ?? 0) + ((await metric(b.url, 'unify_webhook_deliveries_total', { outcome: 'rejected' })) ?? 0);
    await eventually(async () => (await refused()) === 1, 'a refused delivery');
    expect(acceptedFor(flow.id)).toHaveLength(0);

    const client = new Redis(redis.url);
    try {
      expect(await replayFailedDeliveries(client)).toBe(1);
    } finally {
      client.disconnect();
    }
    await eventually(() => acceptedFor(flow.id).length === 1, 'the replayed delivery');
    const attempts = receiver.received.filter((r) => r.verified?.data.flowId === flow.id);
    expect(attempts.map((r) => r.status)).toEqual([400, 204]);
    expect(attempts[0]!.id).toBe(attempts[1]!.id);
  });
});
