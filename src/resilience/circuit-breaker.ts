import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { ProveError, type CallOptions, type ProveClient } from '../prove/types.js';

/**
 * A circuit breaker around the ProveClient (cockatiel's CircuitBreakerPolicy with a
 * ConsecutiveBreaker). While Prove is down, calls fail at once with a ProveError of kind
 * `unavailable` (FlowService turns it into UpstreamError { retryable: true }, flow unchanged)
 * instead of each waiting out its own timeout and spending a slot of the shared upstream budget.
 * After `halfOpenAfterMs` one real call is let through as a probe: success closes the circuit,
 * an outage-like failure opens it again.
 *
 * What counts as a failure: Prove unavailable (5xx, 404, unreadable body), timeouts, network
 * errors, and Prove's own 429. Never invalid_request (the caller's input), unauthorized (a
 * configuration problem /ready reports), our own budget's refusal (a 429 without an HTTP status:
 * the gateway's pacing, not Prove's health), a store error or a cancelled call.
 *
 * cockatiel makes callers that arrive while the probe runs wait for it; here they fail fast too,
 * so a probe that hangs until its timeout holds nobody else up.
 */

export interface CircuitBreakerOptions {
  /** Consecutive outage-like failures that open the circuit (default 5). */
  failures?: number;
  /** How long the circuit stays open before one probe call is let through (default 5000). */
  halfOpenAfterMs?: number;
  logger?: Logger;
}

export type CircuitStateName = 'closed' | 'open' | 'half-open';

export interface GuardedProveClient extends ProveClient {
  circuit(): CircuitStateName;
  /** Called with each outcome of a real call, for readiness (credentials accepted or refused). */
  onOutcome(listener: (outcome: 'ok' | ProveError) => void): void;
}

/** Failures that say Prove (or the way to it) is unhealthy. */
export function isOutage(error: unknown): boolean {
  if (!(error instanceof ProveError)) return false;
  switch (error.kind) {
    case 'unavailable':
    case 'timeout':
    case 'network':
      return true;
    case 'rate_limited':
      // Prove's own 429 has an HTTP status; the upstream budget's refusal has none.
      return error.status === 429;
    default:
      return false;
  }
}

const NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

export function withCircuitBreaker(client: ProveClient, options: CircuitBreakerOptions = {}): GuardedProveClient {
  const halfOpenAfterMs = options.halfOpenAfterMs ?? 5_000;
  const policy: CircuitBreakerPolicy = circuitBreaker(handleWhen(isOutage), {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.failures ?? 5),
  });
  const listeners: Array<(outcome: 'ok' | ProveError) => void> = [];
  const { logger } = options;
  policy.onBreak((reason) => {
    const error = 'error' in reason ? reason.error : undefined;
    logger?.error(
      error instanceof ProveError ? { endpoint: error.endpoint, kind: error.kind, status: error.status, halfOpenAfterMs } : { halfOpenAfterMs },
      'Prove circuit open: failing fast until a probe call succeeds',
    );
  });
  policy.onHalfOpen(() => logger?.warn('Prove circuit half-open: letting one probe call through'));
  policy.onReset(() => logger?.info('Prove circuit closed: Prove answers again'));

  const open = (endpoint: string) =>
    new ProveError({
      kind: 'unavailable',
      endpoint,
      message: `Prove ${endpoint} not called: Prove is failing and the circuit is open (a probe is tried every ${halfOpenAfterMs} ms)`,
    });

  const guarded = async <T>(endpoint: string, call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> => {
    // cockatiel would park this call behind the probe; fail fast instead.
    if (policy.state === CircuitState.HalfOpen || policy.state === CircuitState.Isolated) throw open(endpoint);
    try {
      const value = await policy.execute(call, signal);
      for (const listener of listeners) listener('ok');
      return value;
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw open(endpoint);
      if (error instanceof ProveError) for (const listener of listeners) listener(error);
      throw error;
    }
  };

  return {
    unify: (request, opts?: CallOptions) => guarded('/v3/unify', () => client.unify(request, opts), opts?.signal),
    unifyStatus: (request, opts?: CallOptions) => guarded('/v3/unify-status', () => client.unifyStatus(request, opts), opts?.signal),
    unifyBind: (request, opts?: CallOptions) => guarded('/v3/unify-bind', () => client.unifyBind(request, opts), opts?.signal),
    revokeDevice: (request, opts?: CallOptions) => guarded('/v3/device/revoke', () => client.revokeDevice(request, opts), opts?.signal),
    // The readiness check: never counted, never refused by the circuit.
    checkCredentials: (opts?: CallOptions) => client.checkCredentials(opts),
    circuit: () => NAMES[policy.state],
    onOutcome: (listener) => void listeners.push(listener),
  };
}

/** `unify_prove_circuit_state{region}` on a gateway's registry: 0 closed, 1 open, 2 half-open (read at scrape). */
export function registerCircuitMetric(registry: Registry, clients: ReadonlyArray<{ region: string; client: Pick<GuardedProveClient, 'circuit'> }>): void {
  const values: Record<CircuitStateName, number> = { closed: 0, open: 1, 'half-open': 2 };
  new Gauge({
    name: 'unify_prove_circuit_state',
    help: 'The circuit breaker around each Prove region: 0 closed (calls go through), 1 open (calls fail fast), 2 half-open (one probe call)',
    labelNames: ['region'] as const,
    registers: [registry],
    collect() {
      for (const { region, client } of clients) this.set({ region }, values[client.circuit()]);
    },
  });
}
