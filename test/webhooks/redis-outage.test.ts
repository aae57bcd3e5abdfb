import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createWebhooks, type Webhooks } from '../../src/webhooks/index.js';
import { loadConfig } from '../../src/config.js';
import { pendingFlow } from '../support/stored-flow.js';
import { eventually } from '../live/support.js';
import { redisServerBin, startOwnRedis, type OwnRedis } from '../resilience/support.js';
import { newSecret, startReceiver, type Receiver } from './receiver.js';
import { FAST_RETRIES } from './support.js';

/**
 * Redis gone at the moment a transition is stored: the transition is not failed for it, the
 * event waits in the instance's memory (counted in the queue depth) and reaches the receiver once
 * Redis answers again. The webhooks module on a real Redis of its own and a real receiver.
 */

const bin = redisServerBin();

describe.skipIf(!bin)('webhooks while Redis is down', () => {
  const secret = newSecret();
  let redis: OwnRedis;
  let receiver: Receiver;
  let client: Redis;
  let webhooks: Webhooks;
  const registry = new Registry();

  beforeAll(async () => {
    [redis, receiver] = await Promise.all([startOwnRedis(bin!), startReceiver(secret)]);
    client = new Redis(redis.url, { maxRetriesPerRequest: 2 });
    client.on('error', () => {});
    const { webhooks: config } = loadConfig({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, ...FAST_RETRIES });
    webhooks = await createWebhooks({ config: config!, logger: pino({ level: 'silent' }), registry, redis: client });
  });
  afterAll(async () => {
    await webhooks?.close(2_000);
    client?.disconnect();
    await receiver?.close();
    await redis?.close();
  });

  const depth = async () => (await registry.getSingleMetric('unify_webhook_queue_depth')!.get()).values[0]?.value;

  it('an event stored while Redis is down is kept, then delivered once when Redis is back', async () => {
    const before = { ...pendingFlow(), state: 'VERIFIED' as const, version: 2 };
    await webhooks.onTransition(before);
    await eventually(() => receiver.accepted().length === 1, 'the event before the outage');

    await redis.stop();
    const during = { ...pendingFlow(), state: 'FAILED' as const, version: 2 };
    // Resolves (the transition is stored; the event waits) rather than failing or hanging.
    await webhooks.onTransition(during);
    expect(await depth()).toBeGreaterThanOrEqual(1);

    await redis.start();
    await eventually(() => receiver.accepted().some((r) => r.verified?.data.flowId === during.id), 'the event kept during the outage', 15_000);
    await eventually(async () => (await depth()) === 0, 'an empty queue', 10_000);
    expect(receiver.accepted().filter((r) => r.verified?.data.flowId === during.id)).toHaveLength(1);
    expect(receiver.accepted().find((r) => r.verified?.data.flowId === during.id)!.verified!.type).toBe('flow.failed');
  });
});
