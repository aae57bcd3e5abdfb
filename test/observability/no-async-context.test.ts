import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WatchStatusDocument } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { started, status, stored, trusted } from '../support/flows.js';

/**
 * With tracing off, the gateway asks Node for no async context tracking: no AsyncLocalStorage is
 * entered and no async hook enabled while it serves whole flows. On Node 20 either one turns on
 * promise hooks for every promise in the process, which costs CPU on every request; a request's
 * log is handed down instead (src/observability/request-log.ts).
 *
 * Observed through Node's public API: AsyncLocalStorage's `run` and `enterWith` (every store
 * entered goes through one of them) and the `enable` of the hooks `createHook` makes, recorded as
 * they are called and then called as usual.
 */

const calls: string[] = [];
const hookPrototype = Object.getPrototypeOf(createHook({})) as { enable: (...args: unknown[]) => unknown };
const storage = AsyncLocalStorage.prototype as unknown as Record<'run' | 'enterWith', (...args: unknown[]) => unknown>;
const originals = { run: storage.run, enterWith: storage.enterWith, enable: hookPrototype.enable };

function record(): void {
  storage.run = function (this: unknown, ...args: unknown[]) {
    calls.push('AsyncLocalStorage.run');
    return originals.run.apply(this, args);
  };
  storage.enterWith = function (this: unknown, ...args: unknown[]) {
    calls.push('AsyncLocalStorage.enterWith');
    return originals.enterWith.apply(this, args);
  };
  hookPrototype.enable = function (this: unknown, ...args: unknown[]) {
    calls.push('AsyncHook.enable');
    return originals.enable.apply(this, args);
  };
}

function restore(): void {
  storage.run = originals.run;
  storage.enterWith = originals.enterWith;
  hookPrototype.enable = originals.enable;
}

let gw: TestGateway;

beforeAll(async () => {
  record();
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  restore();
});

describe('tracing off: no async context tracking', () => {
  it('whole flows over HTTP and graphql-ws enter no AsyncLocalStorage and enable no async hook', async () => {
    calls.length = 0;
    // Over HTTP: started, read, and verified by its status call (MOBILE, the OTP entered on the emulator).
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, trusted);
    await stored(gw, flow.id, trusted);
    const ws = createClient({ url: gw.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      // Over graphql-ws: the live status until the flow is final.
      const states: string[] = [];
      const watched = new Promise<void>((resolve, reject) => {
        ws.subscribe(
          { query: print(WatchStatusDocument), variables: { flowId: flow.id } },
          { next: (event: any) => void states.push(event.data?.unifyStatus?.flow?.state), error: reject, complete: resolve },
        );
      });
      await gw.sim.authenticate({ authToken, otp: '1234' });
      expect((await status(gw, flow.id, trusted)).__typename).toBe('UnifyStatusPayload');
      await watched;
      expect(states.at(-1)).toBe('VERIFIED');
    } finally {
      await ws.dispose();
    }
    expect(calls).toEqual([]);
  });

  it('would see one (the recording works)', () => {
    calls.length = 0;
    new AsyncLocalStorage<number>().run(1, () => undefined);
    // Entering a store enables Node's own hook for it: seen both ways.
    expect(calls).toEqual(['AsyncLocalStorage.run', 'AsyncHook.enable']);
  });
});
