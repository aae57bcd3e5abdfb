import type { Redis } from 'ioredis';
import { ProveError } from '../prove/types.js';
import type { Store } from '../store/store.js';
import type { CircuitStateName } from './circuit-breaker.js';

/**
 * What /ready answers. Ready means: not draining, the store answers (and in Redis mode both
 * pub/sub connections are up), and Prove has not refused our credentials. The body names every
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
 */

export type CredentialsState = 'accepted' | 'refused' | 'unknown';

export interface ReadinessReport {
  ready: boolean;
  body: {
    status: 'ready' | 'not ready' | 'draining';
    /** One line per problem, empty when ready. */
    problems: string[];
    checks: {
      draining: boolean;
      store: { ok: boolean; kind: 'memory' | 'redis'; error?: string };
      pubsub?: { ok: boolean; publish: string; subscribe: string };
      prove: { ok: boolean; credentials: CredentialsState; circuit: CircuitStateName; error?: string };
    };
  };
}

export interface ReadinessOptions {
  store: Store;
  /** Redis mode: the publish and subscribe connections. */
  redis?: { pub: Redis; sub: Redis } | undefined;
  /** Resolves when Prove accepts the credentials (ProveClient.checkCredentials). */
  checkCredentials: (signal: AbortSignal) => Promise<void>;
  circuit: () => CircuitStateName;
  draining: () => boolean;
  credentialsTtlMs?: number;
  checkTimeoutMs?: number;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
  /** A real Prove call's outcome (from the circuit breaker's listener). */
  observe(outcome: 'ok' | ProveError): void;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const ttl = options.credentialsTtlMs ?? 10_000;
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  let credentials: { state: CredentialsState; error?: string; at: number } | undefined;
  let checking: Promise<void> | undefined;

  const checkCredentials = (): Promise<void> =>
    (checking ??= options
      .checkCredentials(AbortSignal.timeout(timeoutMs))
      .then(
        () => void (credentials = { state: 'accepted', at: Date.now() }),
        (error: unknown) => {
          const refused = error instanceof ProveError && error.kind === 'unauthorized';
          // Unreachable: we cannot tell, and keep what we knew, if anything.
          const state: CredentialsState = refused ? 'refused' : (credentials?.state ?? 'unknown');
          credentials = { state, error: describe(error), at: Date.now() };
        },
      )
      .finally(() => (checking = undefined)));

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

  return {
    observe(outcome) {
      if (outcome === 'ok') credentials = { state: 'accepted', at: Date.now() };
      else if (outcome.kind === 'unauthorized') credentials = { state: 'refused', error: outcome.message, at: Date.now() };
    },
    async check() {
      const draining = options.draining();
      const stale = !credentials || Date.now() - credentials.at > ttl;
      const [storeError] = await Promise.all([
        withTimeout(options.store.ping()),
        stale ? checkCredentials() : undefined,
      ]);
      const problems: string[] = [];
      if (draining) problems.push('draining: this instance is shutting down');
      if (storeError) problems.push(`store: ${storeError}`);

      let pubsub: ReadinessReport['body']['checks']['pubsub'];
      if (options.redis) {
        const { pub, sub } = options.redis;
        pubsub = { ok: pub.status === 'ready' && sub.status === 'ready', publish: pub.status, subscribe: sub.status };
        if (!pubsub.ok) problems.push(`pubsub: Redis connections are ${pub.status} (publish) and ${sub.status} (subscribe)`);
      }

      const known = credentials ?? { state: 'unknown' as const, at: 0 };
      const prove = {
        ok: known.state !== 'refused',
        credentials: known.state,
        circuit: options.circuit(),
        ...(known.error && { error: known.error }),
      };
      if (!prove.ok) problems.push(`prove: credentials refused (${known.error ?? 'unauthorized'})`);

      const ready = problems.length === 0;
      return {
        ready,
        body: {
          status: draining ? 'draining' : ready ? 'ready' : 'not ready',
          problems,
          checks: {
            draining,
            store: { ok: !storeError, kind: options.store.kind, ...(storeError && { error: storeError }) },
            ...(pubsub && { pubsub }),
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
