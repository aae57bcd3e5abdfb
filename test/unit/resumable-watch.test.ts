import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/flows/flow.js';
import { resumableWatch } from '../../src/resilience/resumable-watch.js';
import { StoreUnavailableError } from '../../src/resilience/store-guard.js';
import { FlowStartPendingError } from '../../src/flows/errors.js';

/** resumableWatch alone, over scripted inner watches: what it skips, when it pauses, how it ends. */
const flow = (version: number, state = 'PENDING') => ({ id: 'f', state, version }) as Flow;
const outage = () => new StoreUnavailableError('read', new Error('connection lost'));

/** Each inner watch yields its values, then throws `error` or waits until returned. */
function scripted(runs: { values: Flow[]; error?: unknown }[]) {
  const started: (AbortSignal | undefined)[] = [];
  let returned = 0;
  const start = (signal: AbortSignal | undefined): AsyncIterator<Flow> => {
    started.push(signal);
    const run = runs.shift() ?? { values: [] };
    let i = 0;
    let release: ((r: IteratorResult<Flow>) => void) | undefined;
    return {
      next: async () => {
        if (i < run.values.length) return { done: false, value: run.values[i++]! };
        if (run.error) throw run.error;
        return new Promise((resolve) => (release = resolve));
      },
      return: async () => (returned++, release?.({ done: true, value: undefined }), { done: true, value: undefined }),
    };
  };
  return { start, started, returned: () => returned };
}

describe('resumableWatch', () => {
  it('restarts after a store outage and skips versions already delivered', async () => {
    const { start, started } = scripted([{ values: [flow(1)], error: outage() }, { values: [flow(1), flow(2, 'VERIFIED')] }]);
    const watch = resumableWatch(start, { retryMs: 5 });
    expect((await watch.next()).value.version).toBe(1);
    expect((await watch.next()).value.version).toBe(2);
    expect(started).toHaveLength(2);
    expect(await watch.return!()).toEqual({ done: true, value: undefined });
  });

  it('a flow whose start another instance is still storing is waited for, and past the grace ends with that error', async () => {
    const pending = () => new FlowStartPendingError();
    const { start, started } = scripted([{ values: [], error: pending() }, { values: [], error: pending() }, { values: [flow(1)] }]);
    const watch = resumableWatch(start, { retryMs: 5 });
    expect((await watch.next()).value.version).toBe(1);
    expect(started).toHaveLength(3);
    await watch.return!();

    const forever = scripted(Array.from({ length: 1_000 }, () => ({ values: [], error: pending() })));
    const ended = resumableWatch(forever.start, { retryMs: 5, maxRetryMs: 5, firstEventGraceMs: 50 });
    await expect(ended.next()).rejects.toBeInstanceOf(FlowStartPendingError);
  });

  it('return() during a backoff pause ends a pending next() at once', async () => {
    const { start } = scripted([{ values: [flow(1)], error: outage() }]);
    const watch = resumableWatch(start, { retryMs: 60_000 });
    await watch.next();
    const pending = watch.next();
    await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await watch.return!();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('an abort during a pause ends it; the inner watch gets the signal itself', async () => {
    const controller = new AbortController();
    const { start, started } = scripted([{ values: [flow(1)], error: outage() }]);
    const watch = resumableWatch(start, { signal: controller.signal, retryMs: 60_000 });
    await watch.next();
    const pending = watch.next();
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(started[0]).toBe(controller.signal);
  });

  it('a subscription with nothing delivered gives up after the grace period; other errors end it at once', async () => {
    const { start } = scripted([{ values: [], error: outage() }, { values: [], error: outage() }, { values: [], error: outage() }]);
    await expect(resumableWatch(start, { retryMs: 5, firstEventGraceMs: 8 }).next()).rejects.toBeInstanceOf(StoreUnavailableError);
    const other = scripted([{ values: [flow(1)], error: new Error('bug') }]);
    const watch = resumableWatch(other.start, { retryMs: 5 });
    await watch.next();
    await expect(watch.next()).rejects.toThrow('bug');
    expect(await watch.next()).toEqual({ done: true, value: undefined });
  });

  it('return() ends the inner watch', async () => {
    const { start, returned } = scripted([{ values: [flow(1)] }]);
    const watch = resumableWatch(start);
    await watch.next();
    const pending = watch.next();
    await watch.return!();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(returned()).toBe(1);
  });
});
