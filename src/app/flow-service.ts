import type { RedisClient } from '../store/redis-client.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Flow } from '../flows/flow.js';
import { FlowService } from '../flows/service.js';
import type { FlowEvents } from '../events/flow-events.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import { FlowRepository } from '../store/flow-repository.js';
import { processLocks, redisLocks } from '../store/locks.js';
import { guardKeyv, guardLocks, guardWrites, type StoreOutageLog } from '../resilience/store-guard.js';
import { resumableWatches } from '../resilience/resumable-flows.js';
import { createStartLimits } from '../security/start-limits.js';
import type { RegionStack } from './prove-regions.js';

export interface FlowServiceParts {
  regions: readonly RegionStack[];
  store: Store;
  storeLog: StoreOutageLog;
  events: FlowEvents;
  redis: { pub: RedisClient } | undefined;
  metrics: GatewayMetrics;
  logger: Logger;
  onTransition?: ((flow: Flow) => Promise<void>) | undefined;
  now?: () => number;
}

/**
 * The domain service wired from configuration and the gateway's infrastructure: Prove per region,
 * the guarded store and locks (shared through Redis when there is one), send limits, resumable
 * watches, and the transition hook (webhooks).
 */
export function createFlowService(config: Config, parts: FlowServiceParts): FlowService {
  const { regions, store, storeLog, events, redis, metrics, logger, now } = parts;
  const { proveRegions } = config;
  return new FlowService({
    regions: {
      clients: Object.fromEntries(regions.map(({ region, client }) => [region, client])),
      defaultRegion: proveRegions.defaultRegion,
    },
    wrapWatch: resumableWatches(),
    repo: metrics.instrumentRepository(new FlowRepository(guardKeyv(store.keyv, storeLog), now, logger, guardWrites(store.writes, storeLog))),
    events,
    locks: redis ? guardLocks(redisLocks(redis.pub), redis.pub, storeLog) : processLocks(),
    phonePolicy: { sandbox: proveRegions.sandbox, allowedCountries: config.allowedCountries },
    finalTargetOrigins: config.finalTargetOrigins,
    flowTtlMs: config.flowTtlMs,
    startGuard: createStartLimits({
      perNumber: config.startLimitPerNumber,
      perNumberAll: config.startLimitPerNumberAll,
      perNumberTrusted: config.startLimitPerNumberTrusted,
      perAddress: config.startLimitPerAddress,
      redis: redis?.pub,
    }),
    onTransition: parts.onTransition,
    ...(now ? { now } : {}),
  });
}
