import type { Lease, Locks } from './locks.js';

/**
 * A lease that stays short and is renewed while its holder works: a live holder never loses it
 * to a slow Prove call, and a dead one (SIGKILL, a lost host) frees it within `ttlMs`, instead of
 * holding everyone else back for the longest a piece of work could take.
 */

export interface HeldLease {
  /** Stops renewing and releases (if still ours). */
  release(): Promise<void>;
  /** False once a renewal found the lease lapsed: another holder may act, so this one must not write. */
  readonly kept: boolean;
}

export async function takeLease(locks: Locks, name: string, ttlMs: number): Promise<HeldLease | undefined> {
  const granted: Lease | undefined = await locks.acquire(name, ttlMs);
  if (!granted) return undefined;
  let kept = true;
  let stopped = false;
  // Renewed at a third of its life: two renewals may fail (a Redis blip) before it lapses.
  const timer = setInterval(() => {
    granted.extend(ttlMs).then(
      (ok) => {
        if (!ok && !stopped) kept = false;
      },
      () => {},
    );
  }, Math.max(10, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    get kept() {
      return kept;
    },
    async release() {
      stopped = true;
      clearInterval(timer);
      await granted().catch(() => {});
    },
  };
}

/** Waits while someone holds `name`, polling, at most `maxWaitMs`; true when it was freed. */
export async function waitWhileHeld(locks: Locks, name: string, maxWaitMs: number, pollMs = 25): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  while (await locks.held(name)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}
