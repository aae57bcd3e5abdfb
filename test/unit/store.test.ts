import { describe, expect, it } from 'vitest';
import { Keyv } from 'keyv';
import { ExpiringMap } from '../../src/store/memory-store.js';
import { processLocks } from '../../src/store/locks.js';

describe('memory store', () => {
  it('forgets entries past their time to live without anyone reading them', async () => {
    let now = 1_000;
    const map = new ExpiringMap<unknown>(60_000, () => now);
    const keyv = new Keyv({ store: map, namespace: 't' });
    await keyv.set('flow', { state: 'PENDING' }, 500);
    await keyv.set('forever', 1);
    expect(map.size).toBe(2);
    now += 499;
    map.sweep();
    expect(map.size).toBe(2);
    now += 1;
    map.sweep();
    expect(map.size).toBe(1);
    expect(await keyv.get('forever')).toBe(1);
    map.stop();
  });
});

describe('process leases', () => {
  it('one holder at a time; released or lapsed leases can be taken again', async () => {
    let now = 0;
    const locks = processLocks(() => now);
    const release = await locks.acquire('flow:a', 100);
    expect(release).toBeDefined();
    expect(await locks.acquire('flow:a', 100)).toBeUndefined();
    expect(await locks.held('flow:a')).toBe(true);
    expect(await locks.acquire('flow:b', 100)).toBeDefined();
    await release!();
    expect(await locks.held('flow:a')).toBe(false);
    const again = await locks.acquire('flow:a', 100);
    now += 100;
    // A holder that never released (it died) blocks no one past its time.
    expect(await locks.acquire('flow:a', 100)).toBeDefined();
    // ...and the stale release cannot free the new holder's lease.
    await again!();
    expect(await locks.held('flow:a')).toBe(true);
  });
});
