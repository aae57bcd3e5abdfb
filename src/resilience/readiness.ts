import type { RedisClient } from '../store/redis-client.js';
import { ProveError } from '../prove/types.js';
import type { Store } from '../store/store.js';
import type { CircuitStateName } from './circuit-breaker.js';
import { isCluster } from '../store/redis-client.js';
import { clusterHealth, clusterModeMismatch } from './cluster-health.js';

/**
 * What /ready answers. Ready means: not draining, the store answers (and in Redis mode both
 * pub/sub connections are up; on a Redis Cluster also every slot served and every master
 * reachable: cluster-health.ts), and Prove has not refused our credentials. The body names every
 * check, so whoever reads it sees what is wrong.
 *
 * Prove being unreachable or failing (circuit open) is reported but does not make an instance
 * unready: Prove is shared by every instance, so a readiness failure would take them all out of
 * the load balancer at once, and nobody would be left to answer flow(id), live status, or a clear
 * UpstreamError. A refused credential is different: it is this deployment's configuration, and a
 * new instance with a bad secret must not receive traffic.
 *
 * The credential check is ProveClient.checkCredentials() (a cached OAuth token, or one /token
 * exchange), remembered for `credentialsTtlMs` and bounded by `checkTimeoutMs`, so /ready stays
 * cheap however often it is polled. Live calls update it too: a 401/403 on a real call marks the
 * credentials refused at once, any success marks them accepted.
 *
 * Each Prove region has its own credentials and circuit, reported under `checks.prove.regions`.
 * With two regions, one region's refused credentials are a warning, not unreadiness: the instance
 * still serves the other region, and every instance shares the configuration, so taking them out
 * would turn one region's bad secret into an outage of both. Only when every region is refused is
 * the instance not ready (with one region, as before).
 */

export type CredentialsState = 'accepted' | 'refused' | 'unknown';

export interface ProveCheck {
  ok: boolean;
  credentials: CredentialsState;
  circuit: CircuitStateName;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  body: {
    status: 'ready' | 'not ready' | 'draining';
    /** One line per problem, empty when ready. */
    problems: string[];
    /** What is wrong but leaves the instance ready (a region whose credentials Prove refuses while another works). */
    warnings: string[];
    checks: {
      draining: boolean;
      store: { ok: boolean; kind: 'memory' | 'redis'; error?: string };
      pubsub?: { ok: boolean; publish: string; subscribe: string };
      /** REDIS_CLUSTER=on: the cluster's state as its masters report it, and the slots served (of 16384). */
      cluster?: { ok: boolean; state: string; slotsOk: number };
      /** The default region's check (ok: every region's credentials accepted or unknown), and each region's. */
      prove: ProveCheck & { defaultRegion: string; regions: Record<string, ProveCheck> };
    };
  };
}

export interface RegionProbe {
  region: string;
  /** Resolves when Prove accepts the region's credentials (ProveClient.checkCredentials). */
  checkCredentials: (signal: AbortSignal) => Promise<void>;
  circuit: () => CircuitStateName;
}

export interface ReadinessOptions {
  store: Store;
  /** Redis mode: the publish and subscribe connections. */
  redis?: { pub: RedisClient; sub: RedisClient } | undefined;
  /** Every Prove region the gateway serves; the default one first. */
  regions: RegionProbe[];
  defaultRegion: string;
  draining: () => boolean;
  credentialsTtlMs?: number;
  checkTimeoutMs?: number;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
  /** A real Prove call's outcome in a region (from its circuit breaker's listener). */
  observe(outcome: 'ok' | ProveError, region: string): void;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const ttl = options.credentialsTtlMs ?? 10_000;
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  const credentials = new Map<string, { state: CredentialsState; error?: string; at: number }>();
  const checking = new Map<string, Promise<void>>();

  const checkCredentials = (probe: RegionProbe): Promise<void> => {
    const running = checking.get(probe.region);
    if (running) return running;
    const check = probe
      .checkCredentials(AbortSignal.timeout(timeoutMs))
      .then(
        () => void credentials.set(probe.region, { state: 'accepted', at: Date.now() }),
        (error: unknown) => {
          const refused = error instanceof ProveError && error.kind === 'unauthorized';
          // Unreachable: we cannot tell, and keep what we knew, if anything.
          const state: CredentialsState = refused ? 'refused' : (credentials.get(probe.region)?.state ?? 'unknown');
          credentials.set(probe.region, { state, error: describe(error), at: Date.now() });
        },
      )
      .finally(() => checking.delete(probe.region));
    checking.set(probe.region, check);
    return check;
  };

  const withTimeout = async (work: Promise<void>): Promise<string | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        work,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      return undefined;
    } catch (error) {
      return describe(error);
    } finally {
      clearTimeout(timer);
    }
  };

  const regionCheck = (probe: RegionProbe): ProveCheck => {
    const known = credentials.get(probe.region) ?? { state: 'unknown' as const, at: 0 };
    return { ok: known.state !== 'refused', credentials: known.state, circuit: probe.circuit(), ...(known.error && { error: known.error }) };
  };

  return {
    observe(outcome, region) {
      if (outcome === 'ok') credentials.set(region, { state: 'accepted', at: Date.now() });
      else if (outcome.kind === 'unauthorized') credentials.set(region, { state: 'refused', error: outcome.message, at: Date.now() });
    },
    async check() {
      const draining = options.draining();
      const stale = options.regions.filter((probe) => {
        const known = credentials.get(probe.region);
        return !known || Date.now() - known.at > ttl;
      });
      const pub = options.redis?.pub;
      const [storeError, cluster, mismatch] = await Promise.all([
        withTimeout(options.store.ping()),
        pub && isCluster(pub) ? clusterHealth(pub, timeoutMs) : undefined,
        pub && !isCluster(pub) ? clusterModeMismatch(pub, timeoutMs) : undefined,
        ...stale.map(checkCredentials),
      ]);
      const problems: string[] = [];
      const warnings: string[] = [];
      if (draining) problems.push('draining: this instance is shutting down');
      if (storeError) problems.push(`store: ${storeError}`);
      if (cluster) problems.push(...cluster.problems);
      if (mismatch) problems.push(mismatch);

      let pubsub: ReadinessReport['body']['checks']['pubsub'];
      if (options.redis) {
        const { pub, sub } = options.redis;
        pubsub = { ok: pub.status === 'ready' && sub.status === 'ready', publish: pub.status, subscribe: sub.status };
        if (!pubsub.ok) problems.push(`pubsub: Redis connections are ${pub.status} (publish) and ${sub.status} (subscribe)`);
      }

      const regions = Object.fromEntries(options.regions.map((probe) => [probe.region, regionCheck(probe)]));
      const refused = Object.entries(regions).filter(([, check]) => !check.ok);
      const single = options.regions.length === 1;
      for (const [region, check] of refused) {
        const line = single
          ? `prove: credentials refused (${check.error ?? 'unauthorized'})`
          : `prove: credentials refused in region ${region} (${check.error ?? 'unauthorized'})`;
        // One region refused while another works: the instance still serves the other one.
        (refused.length === options.regions.length ? problems : warnings).push(line);
      }
      const main = regions[options.defaultRegion] ?? Object.values(regions)[0]!;
      const prove = { ...main, ok: refused.length === 0, defaultRegion: options.defaultRegion, regions };

      const ready = problems.length === 0;
      return {
        ready,
        body: {
          status: draining ? 'draining' : ready ? 'ready' : 'not ready',
          problems,
          warnings,
          checks: {
            draining,
            store: { ok: !storeError, kind: options.store.kind, ...(storeError && { error: storeError }) },
            ...(pubsub && { pubsub }),
            ...(cluster && { cluster: { ok: cluster.ok, state: cluster.state, slotsOk: cluster.slotsOk } }),
            prove,
          },
        },
      };
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
