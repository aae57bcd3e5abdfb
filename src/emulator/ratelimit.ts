/**
 * Prove answers 429 above 25 requests per second. A sliding one-second window per OAuth client
 * (not a fixed bucket) so a burst straddling a second boundary is still caught, which is what a
 * gateway-side limiter must get right.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {}

  /** Records the call and returns true when it is allowed; refused calls do not use up budget. */
  allow(clientId: string): boolean {
    if (this.perSecond <= 0) return true;
    const now = this.now();
    const recent = (this.hits.get(clientId) ?? []).filter((t) => t > now - 1000);
    const allowed = recent.length < this.perSecond;
    if (allowed) recent.push(now);
    this.hits.set(clientId, recent);
    return allowed;
  }
}
