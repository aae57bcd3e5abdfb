/**
 * One OAuth access token per client, shared by every call. The SDK's own hook caches per
 * instance but has no single-flight (four cold calls made four /token requests) and no
 * recovery after a 401; this does both.
 */

export interface IssuedToken {
  accessToken: string;
  expiresInSeconds: number;
}

export interface TokenCacheOptions {
  /** Refresh this long before expiry (default 60 s, at most half the lifetime so short-lived tokens still get reused). */
  refreshMarginMs?: number;
  now?: () => number;
}

export class TokenCache {
  readonly #fetch: () => Promise<IssuedToken>;
  readonly #marginMs: number;
  readonly #now: () => number;
  #current: { token: string; refreshAt: number } | undefined;
  #inflight: Promise<string> | undefined;

  constructor(fetchToken: () => Promise<IssuedToken>, options: TokenCacheOptions = {}) {
    this.#fetch = fetchToken;
    this.#marginMs = options.refreshMarginMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A valid token, fetching one only when none is cached and none is being fetched. The shared
   * fetch is not cancelled by one caller's signal (others may be waiting on it); the caller just
   * stops waiting.
   */
  get(signal?: AbortSignal): Promise<string> {
    const held = this.held();
    if (held !== undefined) return Promise.resolve(held);
    this.#inflight ??= this.#refresh();
    return signal ? untilAborted(this.#inflight, signal) : this.#inflight;
  }

  /** The cached token while it is still good, else undefined: no wait, so nothing to time out. */
  held(): string | undefined {
    const current = this.#current;
    return current && this.#now() < current.refreshAt ? current.token : undefined;
  }

  /**
   * Forget `stale` after Prove refused it. A token other than `stale` is kept: it was fetched by
   * a concurrent refresh, and dropping it would cost a second /token request.
   */
  invalidate(stale: string): void {
    if (this.#current?.token === stale) this.#current = undefined;
  }

  #refresh(): Promise<string> {
    const requestedAt = this.#now();
    const promise = this.#fetch()
      .then(({ accessToken, expiresInSeconds }) => {
        const lifetimeMs = expiresInSeconds * 1000;
        const margin = Math.min(this.#marginMs, lifetimeMs / 2);
        // Measured from when we asked, so the cached expiry is never later than the real one.
        this.#current = { token: accessToken, refreshAt: requestedAt + lifetimeMs - margin };
        return accessToken;
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    // Waiters that gave up (aborted) leave nobody listening; the failure is theirs, not the process's.
    promise.catch(() => {});
    return promise;
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
