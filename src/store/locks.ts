import { randomToken } from '../lib/random-token.js';
import type { RedisClient } from './redis-client.js';

/**
 * Short leases that keep several gateway instances (or several operations in one) from working
 * on the same flow at once. Without Redis, the same leases live in process memory.
 */
export interface Locks {
  /** The lease when granted, undefined when someone else holds it. */
  acquire(name: string, ttlMs: number): Promise<Lease | undefined>;
  /** Whether someone holds the lease now. */
  held(name: string): Promise<boolean>;
}

/** Calling a lease releases it (if it is still ours); extend() renews it while its holder works. */
export type Lease = (() => Promise<void>) & {
  /** Pushes the lease's end to ttlMs from now; false when it had lapsed and someone else may hold it. */
  extend(ttlMs: number): Promise<boolean>;
};

const lease = (release: () => Promise<void>, extend: (ttlMs: number) => Promise<boolean>): Lease =>
  Object.assign(release, { extend });

export function processLocks(now: () => number = Date.now): Locks {
  const leases = new Map<string, { token: symbol; until: number }>();
  const current = (name: string) => {
    const held = leases.get(name);
    if (held && held.until <= now()) leases.delete(name);
    return leases.get(name);
  };
  return {
    async acquire(name, ttlMs) {
      if (current(name)) return undefined;
      const token = Symbol(name);
      leases.set(name, { token, until: now() + ttlMs });
      return lease(
        async () => {
          if (leases.get(name)?.token === token) leases.delete(name);
        },
        async (ttl) => {
          const held = current(name);
          if (held?.token !== token) return false;
          held.until = now() + ttl;
          return true;
        },
      );
    },
    async held(name) {
      return current(name) !== undefined;
    },
  };
}

// Delete or renew only our own lease: after it lapsed another instance may hold it.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export function redisLocks(redis: RedisClient, prefix = 'unify:lock:'): Locks {
  return {
    async acquire(name, ttlMs) {
      const token = randomToken(12);
      const granted = await redis.set(prefix + name, token, 'PX', ttlMs, 'NX');
      if (granted !== 'OK') return undefined;
      return lease(
        async () => {
          await redis.eval(RELEASE, 1, prefix + name, token).catch(() => {});
        },
        async (ttl) => Number(await redis.eval(EXTEND, 1, prefix + name, token, ttl)) === 1,
      );
    },
    async held(name) {
      return (await redis.exists(prefix + name)) === 1;
    },
  };
}
