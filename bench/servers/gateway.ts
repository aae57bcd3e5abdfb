import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { createGateway } from '../../src/app/gateway.js';
import { openStore } from '../../src/store/store.js';
import { FlowRepository, flowKey } from '../../src/store/flow-repository.js';
import { createFlowEvents } from '../../src/events/flow-events.js';
import { connectRedis } from '../../src/store/redis-client.js';
import type { Flow } from '../../src/flows/flow.js';
import { pendingFlow } from '../../test/support/stored-flow.js';
import { serve } from './child.js';

/**
 * The gateway under test, configured from the environment as `npm start` is. It is handed its
 * store and pub/sub so the bench can seed flows and make stored changes in this process through
 * the same repository and pub/sub the FlowService uses (FlowService.commit: save, then publish).
 */
const config = loadConfig(process.env);
const store = await openStore(config.redisUrl, undefined, { cluster: config.redisCluster });
// ioredis loaded only with Redis, as the gateway does (connectRedis): the memory rows measure a process without it.
const { redisUrl } = config;
const target = redisUrl ? { url: redisUrl, cluster: config.redisCluster } : undefined;
const redis = target
  ? { pub: await connectRedis(target), sub: await connectRedis(target, {}, { shardedSubscribers: true }) }
  : undefined;
const events = createFlowEvents(redis ? { publishClient: redis.pub, subscribeClient: redis.sub } : undefined);
const repo = new FlowRepository(store.keyv);
const gateway = await createGateway(config, { store, events });
// With Redis, wait for /ready as a load balancer would. Not without: /ready checks the Prove
// credentials, which would fetch the token the cold-burst row counts.
for (let attempt = 0; config.redisUrl; attempt++) {
  const ready = await fetch(`${gateway.url}/ready`).then((r) => r.ok, () => false);
  if (ready) break;
  if (attempt === 50) throw new Error('the gateway never became ready');
  await new Promise((r) => setTimeout(r, 100));
}

const seed = async ({ count }: Record<string, unknown>) => {
  const ids: string[] = [];
  const now = Date.now();
  for (let i = 0; i < Number(count); i++) {
    // A long-lived PENDING flow, as a start leaves it (the real authToken's length included).
    const flow = pendingFlow({ authToken: randomBytes(96).toString('base64url'), expiresAt: now + 60 * 60_000 }, now);
    await repo.save(flow);
    ids.push(flow.id);
  }
  return ids;
};

/** A stored change of one flow, exactly as FlowService.commit makes it: save, then "flow X changed". */
const change = async (id: string) => {
  const flow = await repo.get(id);
  if (!flow) throw new Error('seeded flow missing');
  const next: Flow = { ...flow, updatedAt: Date.now(), version: flow.version + 1 };
  await repo.save(next);
  events.published(flowKey(id), next.version);
};

/** `rate` changes per second for `durationMs`, spread over `ids` round-robin, paced by the clock. */
const publish = ({ ids, rate, durationMs }: Record<string, unknown>) =>
  new Promise<{ published: number; failed: number; elapsedMs: number }>((resolve) => {
    const list = ids as string[];
    const perMs = Number(rate) / 1000;
    const started = performance.now();
    let sent = 0;
    let failed = 0;
    const tick = () => {
      const elapsed = performance.now() - started;
      const due = Math.min(Math.floor(elapsed * perMs), Math.floor(Number(durationMs) * perMs));
      while (sent < due) {
        const id = list[sent % list.length]!;
        sent++;
        change(id).catch(() => failed++);
      }
      if (elapsed >= Number(durationMs)) resolve({ published: sent, failed, elapsedMs: elapsed });
      else setTimeout(tick, 1);
    };
    tick();
  });

/** Each flow's stored updatedAt (ms): what its subscriber should have seen last. */
const updatedAt = async ({ ids }: Record<string, unknown>) =>
  Object.fromEntries(await Promise.all((ids as string[]).map(async (id) => [id, (await repo.get(id))?.updatedAt ?? null] as const)));

serve({ url: gateway.url, graphqlUrl: gateway.graphqlUrl }, { seed, publish, updatedAt }, async () => {
  await gateway.close();
  await store.close();
  redis?.pub.disconnect();
  redis?.sub.disconnect();
});
