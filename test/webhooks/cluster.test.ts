import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createWebhooks, type Webhooks } from '../../src/webhooks/index.js';
import { loadConfig } from '../../src/config.js';
import { pendingFlow } from '../support/stored-flow.js';
import { eventually } from '../live/support.js';
import { redisServerBin } from '../resilience/support.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { newSecret, startReceiver, type Receiver } from './receiver.js';
import { FAST_RETRIES } from './support.js';

/**
 * The durable queue on a Redis Cluster of three masters (started here, slots split three ways):
 * BullMQ's scripts touch several keys of the queue at once, which a cluster allows only when they
 * share a slot, so every key carries the hash tag {unify-webhooks}. Events queued there are
 * delivered, retried and counted as on a single Redis.
 */

const bin = redisServerBin();

describe.skipIf(!bin)('webhooks on Redis Cluster', () => {
  const secret = newSecret();
  let cluster: RedisCluster;
  let client: Cluster;
  let receiver: Receiver;
  let webhooks: Webhooks;
  const registry = new Registry();

  beforeAll(async () => {
    [cluster, receiver] = await Promise.all([startRedisCluster(bin!), startReceiver(secret)]);
    client = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 2 } });
    const { webhooks: config } = loadConfig({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, ...FAST_RETRIES });
    webhooks = await createWebhooks({ config: config!, logger: pino({ level: 'silent' }), registry, redis: client });
  }, 30_000);
  afterAll(async () => {
    await webhooks?.close(2_000);
    client?.disconnect();
    await receiver?.close();
    await cluster?.close();
  });

  it('events are queued, retried and delivered once each; the queue lives in one slot', async () => {
    receiver.script([503, 429]);
    const flows = Array.from({ length: 6 }, () => ({ ...pendingFlow(), state: 'VERIFIED' as const, version: 2 }));
    for (const flow of flows) await webhooks.onTransition(flow);
    // The same transition again (a retried hook): still one event.
    await webhooks.onTransition(flows[0]!);

    await eventually(() => flows.every((f) => receiver.accepted().some((r) => r.verified?.data.flowId === f.id)), 'every event', 15_000);
    const depth = async () => (await registry.getSingleMetric('unify_webhook_queue_depth')!.get()).values[0]?.value;
    await eventually(async () => (await depth()) === 0, 'an empty queue');
    for (const flow of flows) expect(receiver.accepted().filter((r) => r.verified?.data.flowId === flow.id)).toHaveLength(1);
    expect(receiver.received.filter((r) => r.status >= 500 || r.status === 429)).toHaveLength(2);

    const slots = new Set<number>();
    for (const node of client.nodes('master')) {
      for (const key of await node.keys('*unify-webhooks*')) slots.add(Number(await node.call('CLUSTER', 'KEYSLOT', key)));
    }
    expect(slots.size).toBe(1);
  });
});
