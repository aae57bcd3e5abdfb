import type { RedisClient } from '../store/redis-client.js';
import type { Logger } from 'pino';
import { createProveClient, ProveError, type ExchangeTracer, type ProveClient } from '../prove/index.js';
import type { ProveRegion, RegionTarget } from '../prove/regions.js';
import { memoryBudget, redisBudget, withBudget } from '../security/upstream-budget.js';
import { withCircuitBreaker, type CircuitBreakerOptions, type GuardedProveClient } from '../resilience/circuit-breaker.js';
import { guardBudget, type StoreOutageLog } from '../resilience/store-guard.js';
import type { GatewayMetrics } from '../observability/metrics.js';

/**
 * One Prove stack per region: its own adapter (OAuth token, credentials), its own upstream budget
 * (Prove counts 25 requests a second per region and credential) and its own circuit breaker, so an
 * outage of one region neither trips nor slows the other.
 */

export interface RegionStack {
  region: ProveRegion;
  /** What FlowService calls: circuit breaker, then budget, then the timed adapter. */
  client: GuardedProveClient;
  /** The bare adapter: readiness checks its credentials without counting against the budget. */
  adapter: ProveClient;
}

export interface ProveRegionsOptions {
  targets: Partial<Record<ProveRegion, RegionTarget>>;
  /** Adapter tuning (short timeouts in tests). */
  prove?: { timeoutMs?: number; statusDeadlineMs?: number };
  breaker?: Omit<CircuitBreakerOptions, 'logger'>;
  /** Requests per second to Prove, per region. */
  rateLimit: number;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Redis mode: the budget is shared by every instance. */
  redis?: RedisClient;
  storeLog: StoreOutageLog;
  traceExchange?: (serverURL: string, region: ProveRegion) => ExchangeTracer;
}

export function createProveRegions(options: ProveRegionsOptions): RegionStack[] {
  const { metrics, redis } = options;
  return (Object.entries(options.targets) as Array<[ProveRegion, RegionTarget]>).map(([region, target]) => {
    const logger = options.logger.child({ region });
    const adapter = createProveClient({
      ...target,
      ...options.prove,
      logger,
      // Real token exchanges only: the budget checks credentials before every call, almost always from the cache.
      onTokenExchange: (seconds, outcome) => metrics.observeTokenExchange(seconds, outcome, region),
      ...(options.traceExchange && { traceExchange: options.traceExchange(target.serverURL, region) }),
    });
    const budget = redis
      ? guardBudget(redisBudget(redis, options.rateLimit, `unify:upstream-budget:${region}`), redis, options.storeLog)
      : memoryBudget(options.rateLimit);
    // Outermost, the circuit breaker: while Prove is down a call fails before it waits for a budget slot.
    const client = withCircuitBreaker(withBudget(metrics.instrumentProve(adapter, region), budget), { ...options.breaker, logger });
    return { region, client, adapter };
  });
}

/**
 * One token exchange right after start: wrong credentials show up in the log before the first
 * user's start does, in one warning (each refused call then logs its own error).
 */
export function checkCredentialsOnce(adapter: ProveClient, logger: Logger): void {
  adapter.checkCredentials({ signal: AbortSignal.timeout(10_000) }).then(
    () => logger.info('Prove accepted our credentials'),
    (error: unknown) => {
      const refused = error instanceof ProveError && error.kind === 'unauthorized';
      logger.warn(
        { err: { message: error instanceof Error ? error.message : String(error) } },
        refused
          ? 'Prove refused our credentials at start: check PROVE_CLIENT_ID and PROVE_CLIENT_SECRET (or PROVE_US_*, PROVE_EU_*); every call to Prove answers UpstreamError until they are fixed'
          : 'could not check the Prove credentials at start (Prove unreachable?); /ready keeps checking',
      );
    },
  );
}
