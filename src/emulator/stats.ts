/**
 * Counters that let tests see what actually reached "Prove": how many calls per endpoint
 * (faulted ones included), which statuses went back, how many tokens were minted and how many
 * calls were refused by the rate limit.
 */
import type { Door } from './regions.js';
import { FAULT_ENDPOINTS, type Endpoint } from './validation.js';

export interface StatsSnapshot {
  calls: Record<Endpoint, number>;
  responses: Record<string, Record<string, number>>;
  tokensIssued: number;
  rateLimited: number;
  /**
   * Unify sessions opened (each an SMS or a push to a person), per clientRequestId ('-' for none),
   * counted when the session is made: a call whose answer never reached the caller counts too.
   */
  unifyPerformed: Record<string, number>;
}

/** The whole emulator's counters, and the same counters per door (which region a call reached). */
export interface RegionalStatsSnapshot extends StatsSnapshot {
  regions: Record<Door, StatsSnapshot>;
}

/** Enough for any test run; past it, new ids are counted under '…' so memory stays bounded. */
const MAX_REQUEST_IDS = 100_000;

const zeroCalls = (): Record<Endpoint, number> =>
  Object.fromEntries(FAULT_ENDPOINTS.map((e) => [e, 0])) as Record<Endpoint, number>;

export class Stats {
  private calls = zeroCalls();
  private responses: Record<string, Record<string, number>> = {};
  private tokens = 0;
  private limited = 0;
  private performed = new Map<string, number>();

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

  unifyPerformed(clientRequestId: string | undefined): void {
    let id = clientRequestId ?? '-';
    if (!this.performed.has(id) && this.performed.size >= MAX_REQUEST_IDS) id = '…';
    this.performed.set(id, (this.performed.get(id) ?? 0) + 1);
  }

  snapshot(): StatsSnapshot {
    return {
      calls: { ...this.calls },
      responses: structuredClone(this.responses),
      tokensIssued: this.tokens,
      rateLimited: this.limited,
      unifyPerformed: Object.fromEntries(this.performed),
    };
  }

  reset(): void {
    this.calls = zeroCalls();
    this.responses = {};
    this.tokens = 0;
    this.limited = 0;
    this.performed = new Map();
  }
}

type Counting = Pick<Stats, 'call' | 'response' | 'tokenIssued' | 'rateLimited' | 'unifyPerformed'>;

/** Counts every event twice: in the totals (what tests have always read) and under its door. */
export class RegionalStats {
  private readonly all = new Stats();
  private readonly doors: Record<Door, Stats> = { us: new Stats(), eu: new Stats(), global: new Stats() };

  at(door: Door): Counting {
    const both = [this.all, this.doors[door]];
    return {
      call: (endpoint) => both.forEach((s) => s.call(endpoint)),
      response: (endpoint, status) => both.forEach((s) => s.response(endpoint, status)),
      tokenIssued: () => both.forEach((s) => s.tokenIssued()),
      rateLimited: () => both.forEach((s) => s.rateLimited()),
      unifyPerformed: (id) => both.forEach((s) => s.unifyPerformed(id)),
    };
  }

  snapshot(): RegionalStatsSnapshot {
    return {
      ...this.all.snapshot(),
      regions: { us: this.doors.us.snapshot(), eu: this.doors.eu.snapshot(), global: this.doors.global.snapshot() },
    };
  }

  reset(): void {
    this.all.reset();
    for (const stats of Object.values(this.doors)) stats.reset();
  }
}
