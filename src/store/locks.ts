import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Short leases that keep several gateway instances from asking Prove the same question at once.
 * In one process the in-memory single-flight already does this, so the memory lock always grants.
 */
export interface Locks {
  /** A release function when granted, undefined when someone else holds the lease. */
  acquire(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  /** Whether someone holds the lease now. */
  held(name: string): Promise<boolean>;
}

export const processLocks: Locks = {
  acquire: async () => async () => {},
  held: async () => false,
};

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
