import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/flows/flow.js';
import { FlowWatch, expiryWheel, type FlowWatchSource } from '../../src/flows/flow-watch.js';
import { FlowNotFoundError } from '../../src/flows/errors.js';

/** FlowWatch alone: what it releases and when, without GraphQL or a transport. */
function source(initial: Partial<Flow>) {
  let flow = { id: 'f', state: 'PENDING', version: 1, expiresAt: Date.now() + 60_000, ...initial } as Flow;
  const listeners = new Set<() => void>();
  const src: FlowWatchSource = {
    get: async () => flow,
    find: async () => (flow.expiresAt <= Date.now() && flow.state === 'PENDING' ? (flow = { ...flow, state: 'EXPIRED', version: flow.version + 1 }) : flow),
    listen: async (_id, onChange) => void listeners.add(onChange),
    unlisten: (_id, onChange) => void listeners.delete(onChange),
    now: () => Date.now(),
  };
  const change = (next: Partial<Flow>) => {
    flow = { ...flow, ...next, version: flow.version + 1 };
    for (const l of listeners) l();
  };
  return { src, listeners, change };
}

describe('FlowWatch', () => {
  it('yields the flow, each change once, ends after a terminal state and releases everything', async () => {
    const { src, listeners, change } = source({});
    const watch = new FlowWatch('f', src, undefined);
    expect((await watch.next()).value.state).toBe('PENDING');
    const pending = watch.next();
    change({ state: 'VERIFIED' });
    change({}); // collapses into the same read
    expect((await pending).value.state).toBe('VERIFIED');
    expect(await watch.next()).toEqual({ done: true, value: undefined });
    expect(listeners.size).toBe(0);
  });

  it('an abort ends a pending next() at once, with the listener and the expiry entry gone', async () => {
    const { src, listeners } = source({});
    const controller = new AbortController();
    const watch = new FlowWatch('f', src, controller.signal);
    await watch.next();
    const before = expiryWheel.size;
    const pending = watch.next();
    await new Promise((r) => setImmediate(r));
    expect(expiryWheel.size).toBe(before + 1);
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(listeners.size).toBe(0);
    expect(expiryWheel.size).toBe(before);
  });

  it('a flow the store no longer has ends the watch with FlowNotFoundError, everything released', async () => {
    const { src, listeners } = source({});
    let lost = false;
    const watch = new FlowWatch('f', { ...src, find: async (id) => (lost ? undefined : src.find(id)) }, undefined);
    await watch.next();
    const before = expiryWheel.size;
    const pending = watch.next();
    lost = true;
    for (const wake of listeners) wake(); // the reconnect's wake-up, as flow-events sends it
    const error = await pending.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect((error as Error).message).toMatch(/no longer stored/);
    expect(listeners.size).toBe(0);
    expect(expiryWheel.size).toBe(before);
    expect(await watch.next()).toEqual({ done: true, value: undefined });
  });

  it('wakes at expiresAt with nothing else happening', async () => {
    const { src } = source({ expiresAt: Date.now() + 150 });
    const watch = new FlowWatch('f', src, undefined);
    await watch.next();
    const t0 = Date.now();
    expect((await watch.next()).value.state).toBe('EXPIRED');
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await watch.return()).toEqual({ done: true, value: undefined });
  });

  it('holds no flow while it waits, only what it compares: 10,000 quiet subscriptions would each keep one', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { src, change } = source({});
    // A fresh copy per read, so nothing but the watch could keep the one it yielded.
    const copies: FlowWatchSource = { ...src, get: async (id) => ({ ...(await src.get(id)) }), find: async (id) => ({ ...(await src.find(id))! }) };
    const watch = new FlowWatch('f', copies, undefined);
    // Taken in a function of its own, so no frame of this test holds the flow either.
    const yielded = async (next: Promise<IteratorResult<Flow>>) => new WeakRef((await next).value as Flow);
    const first = await yielded(watch.next());
    const waiting = yielded(watch.next());
    // A WeakRef keeps its target alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(first.deref()).toBeUndefined();
    change({ state: 'VERIFIED' });
    const second = await waiting;
    expect(second.deref()?.state).toBe('VERIFIED');
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(second.deref()).toBeUndefined();
    expect(await watch.next()).toEqual({ done: true, value: undefined });
  });

  it('a read that fails rejects next() once, then the watch is done', async () => {
    const { src, listeners } = source({});
    const watch = new FlowWatch('f', { ...src, get: async () => Promise.reject(new Error('not found')) }, undefined);
    await expect(watch.next()).rejects.toThrow('not found');
    expect(await watch.next()).toEqual({ done: true, value: undefined });
    expect(listeners.size).toBe(0);
  });
});
