import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createStore, type Store } from '../../src/store/redis-store.js';
import { redisLocks } from '../../src/store/locks.js';
import { sharedRedis } from '../live/support.js';

/** The Redis pieces under the cross-instance behaviour: the keyv store's connection and the status leases. */

const base = await sharedRedis();
const REDIS_URL = base ? `${base.replace(/\/\d*$/, '')}/12` : '';

describe.skipIf(!base)('Redis store and leases', () => {
  let redis: Redis;
  const stores: Store[] = [];
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  afterAll(() => redis?.disconnect());

  it('a fresh store answers every one of 50 requests that arrive together (none fails with "client is offline")', async () => {
    const store = createStore(REDIS_URL, `test-${randomBytes(4).toString('hex')}`);
    stores.push(store);
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => store.keyv.set(`k${i}`, i, 10_000).then(() => store.keyv.get(`k${i}`))));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect(results.map((r) => (r as PromiseFulfilledResult<unknown>).value)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await expect(store.ready()).resolves.toBeUndefined();
  });

  it('one holder per lease among concurrent instances; release frees it, and only the holder can release', async () => {
    const other = new Redis(REDIS_URL);
    try {
      const prefix = `test-lock-${randomBytes(4).toString('hex')}:`;
      const a = redisLocks(redis, prefix);
      const b = redisLocks(other, prefix);
      const grants = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquire('flow:x', 5_000)));
      expect(grants.filter(Boolean)).toHaveLength(1);
      expect(await b.held('flow:x')).toBe(true);

      await grants.find(Boolean)!();
      expect(await a.held('flow:x')).toBe(false);
      const next = await b.acquire('flow:x', 5_000);
      expect(next).toBeDefined();
      // A lease that timed out and was taken over is not released by its old holder.
      await redis.set(`${prefix}flow:x`, 'someone-else', 'PX', 5_000);
      await next!();
      expect(await a.held('flow:x')).toBe(true);
    } finally {
      other.disconnect();
    }
  });

  it('a lease lapses by itself after its time (an instance that died holding it blocks no one for long)', async () => {
    const locks = redisLocks(redis, `test-lock-${randomBytes(4).toString('hex')}:`);
    expect(await locks.acquire('flow:y', 150)).toBeDefined();
    expect(await locks.acquire('flow:y', 150)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await locks.acquire('flow:y', 150)).toBeDefined();
  });
});
