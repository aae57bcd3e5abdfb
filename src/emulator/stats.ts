/**
 * Counters that let tests see what actually reached "Prove": how many calls per endpoint
 * (faulted ones included), which statuses went back, how many tokens were minted and how many
 * calls were refused by the rate limit.
 */
import { FAULT_ENDPOINTS, type Endpoint } from './validation.js';

export interface StatsSnapshot {
  calls: Record<Endpoint, number>;
  responses: Record<string, Record<string, number>>;
  tokensIssued: number;
  rateLimited: number;
}

const zeroCalls = (): Record<Endpoint, number> =>
  Object.fromEntries(FAULT_ENDPOINTS.map((e) => [e, 0])) as Record<Endpoint, number>;

export class Stats {
  private calls = zeroCalls();
  private responses: Record<string, Record<string, number>> = {};
  private tokens = 0;
  private limited = 0;

  call(endpoint: Endpoint): void {
    this.calls[endpoint] += 1;
  }

  response(endpoint: Endpoint, status: number): void {
    const byStatus = (this.responses[endpoint] ??= {});
    byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
  }

  tokenIssued(): void {
    this.tokens += 1;
  }

  rateLimited(): void {
    this.limited += 1;
  }

  snapshot(): StatsSnapshot {
    return {
      calls: { ...this.calls },
      responses: structuredClone(this.responses),
      tokensIssued: this.tokens,
      rateLimited: this.limited,
    };
  }

  reset(): void {
    this.calls = zeroCalls();
    this.responses = {};
    this.tokens = 0;
    this.limited = 0;
  }
}
