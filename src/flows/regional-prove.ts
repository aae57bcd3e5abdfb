import type { Log } from '../lib/log.js';
import { ProveError, type ProveClient } from '../prove/types.js';
import type { ProveRegion } from '../prove/regions.js';
import type { Flow } from './flow.js';
import { chooseRegion, type ServedRegions } from './region.js';
import { InvalidInputError, RateLimitedError, UpstreamError } from './errors.js';

/**
 * The Prove clients of the regions this gateway serves, and Prove's failures in the domain's
 * words: every FlowService call to Prove goes through call().
 */
export class RegionalProve {
  readonly served: ServedRegions;
  private readonly clients: Partial<Record<ProveRegion, ProveClient>>;

  constructor(regional: { clients: Partial<Record<ProveRegion, ProveClient>>; defaultRegion: ProveRegion } | undefined) {
    const regions = Object.keys(regional?.clients ?? {}) as ProveRegion[];
    if (!regional || regions.length === 0) throw new TypeError('FlowService: a Prove client (prove or regions) is required');
    this.clients = regional.clients;
    this.served = { regions, defaultRegion: regional.defaultRegion };
  }

  /**
   * Where to look for something that lives in one region (a Prove Key): the region named, or the
   * default region, then the others when the default does not know it.
   */
  regionsToAsk(named: ProveRegion | null | undefined): ProveRegion[] {
    if (named) return [chooseRegion(undefined, named, this.served)];
    return [this.served.defaultRegion, ...this.served.regions.filter((r) => r !== this.served.defaultRegion)];
  }

  /** The region a stored flow's session lives in (flows from before regions: the default). */
  regionOf(flow: Flow): ProveRegion {
    return flow.region ?? this.served.defaultRegion;
  }

  /**
   * Prove's failures in the domain's words. A refused credential is not the client's problem: its
   * callers get a typed, non-retryable UpstreamError that says so; with one region /ready also takes
   * the instance out, with two the instance keeps serving the other region. `log`: the caller's
   * request's, for the lines about this call.
   */
  async call<T>(
    region: ProveRegion,
    log: Log,
    call: (prove: ProveClient) => Promise<T>,
    options: { rateLimitedAsTyped?: boolean } = {},
  ): Promise<T> {
    const prove = this.clients[region];
    if (!prove) throw new UpstreamError(false, undefined, `This gateway does not serve Prove's ${region.toUpperCase()} region`);
    try {
      return await call(prove);
    } catch (error) {
      if (!(error instanceof ProveError)) throw error;
      if (options.rateLimitedAsTyped && error.kind === 'rate_limited') {
        // A start refused for Prove's budget (ours or Prove's 429) tells the client when to come back.
        throw new RateLimitedError(error.retryAfterSeconds ?? 1);
      }
      if (error.kind === 'invalid_request') {
        throw new InvalidInputError(error.field ?? 'input', `Prove refused the request: ${error.message}`);
      }
      if (error.kind === 'unauthorized') {
        log.error({ endpoint: error.endpoint, status: error.status, region }, 'Prove refused our credentials');
        // The operator's problem, not the client's: a typed answer that says so, not retryable until the
        // configuration is fixed (/ready takes a single-region instance out meanwhile).
        throw new UpstreamError(
          false,
          error.status,
          this.served.regions.length > 1
            ? `Prove's ${region.toUpperCase()} region is not available from this gateway (Prove refused its credentials); the flow is unchanged`
            : "Prove refused the gateway's credentials (its Prove client id and secret): the gateway's operator must fix its configuration; the flow is unchanged",
        );
      }
      log.warn({ endpoint: error.endpoint, kind: error.kind, status: error.status, region }, 'Prove unavailable');
      throw new UpstreamError(true, error.status, `Prove is unavailable (${error.kind}); the flow is unchanged, try again`);
    }
  }
}
