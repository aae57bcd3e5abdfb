/**
 * Retry policy for the one idempotent call, /v3/unify-status: exponential backoff with full
 * jitter, Retry-After honoured, everything inside one deadline. /v3/unify and /v3/unify-bind
 * never come through here: a repeated unify sends another SMS and opens another flow.
 */
import { ProveError } from './types.js';

export interface RetryPolicy {
  /** Backoff cap for the first retry, doubled per retry. */
  initialMs: number;
  /** Ceiling for any one backoff. */
  maxMs: number;
  /** Attempts in total, the first one included. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 100, maxMs: 2_000, maxAttempts: 4 };

/** Full jitter (AWS architecture blog): uniform in [0, min(max, initial * 2^retry)). */
export function backoffMs(retryIndex: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.initialMs * 2 ** retryIndex);
  return Math.floor(random() * cap);
}

/**
 * Worth trying unify-status again: Prove overloaded (5xx, 429) or the exchange never completed
 * (timeout, network). Not 404 (misrouted) nor an unreadable 200 (would fail the same way).
 */
export function isTransient(err: unknown): err is ProveError {
  if (!(err instanceof ProveError)) return false;
  switch (err.kind) {
    case 'timeout':
    case 'network':
    case 'rate_limited':
      return true;
    case 'unavailable':
      return err.status !== undefined && err.status >= 500;
    default:
      return false;
  }
}

export interface DeadlineRetryOptions {
  policy: RetryPolicy;
  deadlineMs: number;
  signal?: AbortSignal | undefined;
  onRetry?: (err: ProveError, attempt: number, delayMs: number) => void;
}

/**
 * Runs `attempt(remainingMs, attemptNumber)` (numbered from 1) until it succeeds, fails for good, runs out of attempts, or the
 * next try could not start before the deadline. The last error is the one thrown.
 */
export async function retryWithinDeadline<T>(
  attempt: (remainingMs: number, attempt: number) => Promise<T>,
  { policy, deadlineMs, signal, onRetry }: DeadlineRetryOptions,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let index = 0; ; index++) {
    try {
      return await attempt(Math.max(1, deadline - Date.now()), index + 1);
    } catch (err) {
      if (!isTransient(err) || index + 1 >= policy.maxAttempts) throw err;
      const delay =
        err.kind === 'rate_limited' && err.retryAfterSeconds !== undefined
          ? err.retryAfterSeconds * 1000
          : backoffMs(index, policy);
      // Waiting past the deadline would only turn a clear answer into a late one.
      if (Date.now() + delay >= deadline) throw err;
      onRetry?.(err, index + 1, delay);
      await sleep(delay, signal);
    }
  }
}

/** setTimeout that gives up with the signal's own reason, like fetch does. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
