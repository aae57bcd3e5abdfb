import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Flow } from '../../src/flows/flow.js';
import { createStore, type Store } from '../../src/store/redis-store.js';
import { createMemoryStore } from '../../src/store/memory-store.js';
import { FlowRepository } from '../../src/store/flow-repository.js';
import { redisLocks } from '../../src/store/locks.js';
import { sharedRedis } from '../live/support.js';

/**
 * The fence on a flow's writes: a writer whose lease lapsed while it worked cannot overwrite the
 * newer state its successor stored, because the store itself compares versions in the write.
 */

const base = await sharedRedis();
const REDIS_URL = base ? `${base.replace(/\/\d*$/, '')}/12` : '';

const flowOf = (id: string, version: number, state: Flow['state'] = 'PENDING'): Flow =>
  ({ id, state, version, expiresAt: Date.now() + 60_000 }) as Flow;
const newId = () => randomBytes(18).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!base)('fenced flow writes on Redis', () => {
  const stores: Store[] = [];
  const open = () => {
    const store = createStore(REDIS_URL, `test-fence-${randomBytes(4).toString('hex')}`);
    stores.push(store);
    return store;
  };
  /** Two instances: two connections, two repositories, one data set. */
  const twoInstances = () => {
    const namespace = `test-fence-${randomBytes(4).toString('hex')}`;
    const [a, b] = [createStore(REDIS_URL, namespace), createStore(REDIS_URL, namespace)];
    stores.push(a, b);
    return [new FlowRepository(a.keyv, Date.now, undefined, a.writes), new FlowRepository(b.keyv, Date.now, undefined, b.writes)] as const;
  };
  afterAll(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('a late writer whose lease lapsed cannot overwrite the newer state its successor stored', async () => {
    const [a, b] = twoInstances();
    const redis = new Redis(REDIS_URL);
    try {
      const locks = redisLocks(redis, `test-fence-lock-${randomBytes(4).toString('hex')}:`);
      const id = newId();
      expect(await a.save(flowOf(id, 1))).toBe(true);

      // A takes the flow's lease, reads version 1, and stalls (a long GC, a slow Prove) past its lease.
      const lateLease = await locks.acquire(`flow:${id}`, 100);
      expect(lateLease).toBeDefined();
      const seenByLate = (await a.get(id))!;
      await sleep(250);
      // B takes over, asks Prove, stores VERIFIED (version 2).
      const takeover = await locks.acquire(`flow:${id}`, 5_000);
      expect(takeover).toBeDefined();
      const seenByB = (await b.get(id))!;
      expect(await b.save({ ...seenByB, state: 'VERIFIED', version: seenByB.version + 1 })).toBe(true);
      await takeover!();

      // A wakes up and writes what it decided on version 1: refused, VERIFIED stays.
      expect(await a.save({ ...seenByLate, state: 'PENDING', version: seenByLate.version + 1 })).toBe(false);
      expect(await b.get(id)).toMatchObject({ state: 'VERIFIED', version: 2 });
      // An older version is refused just the same; a newer one is written.
      expect(await a.save(flowOf(id, 1, 'FAILED'))).toBe(false);
      expect(await a.save({ ...(await a.get(id))!, state: 'EXPIRED', version: 3 })).toBe(true);
      expect(await b.get(id)).toMatchObject({ state: 'EXPIRED', version: 3 });
    } finally {
      redis.disconnect();
    }
  });

  it('writers racing on two connections: the newest version stays', async () => {
    const [a, b] = twoInstances();
    const id = newId();
    const versions = Array.from({ length: 40 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    const written = await Promise.all(versions.map((v, i) => (i % 2 ? a : b).save(flowOf(id, v))));
    expect((await a.get(id))!.version).toBe(40);
    // The newest was written, and whatever arrived after it was refused: it stays.
    expect(written[versions.indexOf(40)]).toBe(true);
    expect(await b.save(flowOf(id, 40, 'VERIFIED'))).toBe(false);
    expect(await b.get(id)).toMatchObject({ version: 40, state: 'PENDING' });
  });

  it('the record written by the fence is an ordinary keyv value, with its time to live', async () => {
    const store = open();
    const repo = new FlowRepository(store.keyv, Date.now, undefined, store.writes);
    const id = newId();
    expect(await repo.save(flowOf(id, 1))).toBe(true);
    expect(await repo.get(id)).toMatchObject({ id, version: 1, state: 'PENDING' });
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${store.keyv.namespace}::flow:*`);
      expect(keys).toHaveLength(1);
      expect(await redis.pttl(keys[0]!)).toBeGreaterThan(60 * 60_000);
    } finally {
      redis.disconnect();
    }
  });
});

describe('fenced flow writes in memory', () => {
  it('the same refusal as Redis, for writers interleaving in one process', async () => {
    const store = createMemoryStore(`test-fence-${randomBytes(4).toString('hex')}`);
    try {
      const repo = new FlowRepository(store.keyv, Date.now, undefined, store.writes);
      const id = newId();
      const versions = Array.from({ length: 40 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
      const written = await Promise.all(versions.map((v) => repo.save(flowOf(id, v))));
      expect((await repo.get(id))!.version).toBe(40);
      const accepted = versions.filter((_, i) => written[i]);
      expect(accepted).toEqual([...accepted].sort((x, y) => x - y));
      expect(await repo.save(flowOf(id, 40, 'VERIFIED'))).toBe(false);
      expect(await repo.get(id)).toMatchObject({ version: 40, state: 'PENDING' });
    } finally {
      await store.close();
    }
  });
});
