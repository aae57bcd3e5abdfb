import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Short leases that keep several gateway instances (or several operations in one) from working
 * on the same flow at once. Without Redis, the same leases live in process memory.
 */
export interface Locks {
  /** A release function when granted, undefined when someone else holds the lease. */
  acquire(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  /** Whether someone holds the lease now. */
  held(name: string): Promise<boolean>;
}

export function processLocks(now: () => number = Date.now): Locks {
  const leases = new Map<string, { token: symbol; until: number }>();
  const current = (name: string) => {
    const lease = leases.get(name);
    if (lease && lease.until <= now()) leases.delete(name);
    return leases.get(name);
  };
  return {
    async acquire(name, ttlMs) {
      if (current(name)) return undefined;
      const token = Symbol(name);
      leases.set(name, { token, until: now() + ttlMs });
      return async () => {
        if (leases.get(name)?.token === token) leases.delete(name);
      };
    },
    async held(name) {
      return current(name) !== undefined;
    },
  };
}

// Delete only our own lease: after a timeout another instance may hold it.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function redisLocks(redis: Redis, prefix = 'unify:lock:'): Locks {
  return {
    async acquire(name, ttlMs) {
      const token = randomBytes(12).toString('base64url');
      const granted = await redis.set(prefix + name, token, 'PX', ttlMs, 'NX');
      if (granted !== 'OK') return undefined;
      return async () => {
        await redis.eval(RELEASE, 1, prefix + name, token).catch(() => {});
      };
    },
    async held(name) {
      return (await redis.exists(prefix + name)) === 1;
    },
  };
}
