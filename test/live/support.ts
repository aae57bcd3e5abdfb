import { required } from '../support/requirements.js';
import { print } from 'graphql';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { createClient, type Client } from 'graphql-ws';
import { createProveEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { WatchStatusDocument, type WatchStatusSubscription } from '../generated/graphql.js';
import { emulatorClient, TEST_API_KEY, type EmulatorClient } from '../support/gateway.js';

/**
 * Clients for live status as a front end sees it: graphql-ws over a real WebSocket, SSE over a
 * real HTTP stream, and the fixtures the cross-instance suites share (a standalone Prove emulator
 * both instances talk to, a Redis probe).
 */

export type StatusEvent = WatchStatusSubscription['unifyStatus'];

/** The state an event carries: the flow's for a payload, the typed error's name otherwise. */
export const stateOf = (event: StatusEvent): string =>
  event.__typename === 'UnifyStatusPayload' ? event.flow.state : event.__typename;

export const wsUrl = (graphqlUrl: string) => graphqlUrl.replace(/^http/, 'ws');

/** A graphql-ws client as the issue prescribes it: a real `ws` socket, no retries, connected at once. */
export function liveClient(graphqlUrl: string, options: { apiKey?: string } = {}): Client {
  return createClient({
    url: wsUrl(graphqlUrl),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    // A refused connection (4403) rejects the first operation instead of logging from a timer.
    onNonLazyError: () => {},
  });
}

export const trustedClient = (graphqlUrl: string) => liveClient(graphqlUrl, { apiKey: TEST_API_KEY });

/** One subscriber: what it received, and how its stream ended. */
export interface Watch {
  events: StatusEvent[];
  /** Top-level GraphQL errors in next messages (none expected). */
  graphqlErrors: unknown[];
  /**
   * Resolves when the stream ends: completed by the server, or failed (operation error, socket
   * closed). Rejects when it has not ended 15 s after it was first awaited, so a stream that never
   * ends fails its test in seconds rather than at the test's timeout.
   */
  readonly ended: Promise<{ how: 'complete' } | { how: 'error'; error: unknown }>;
  /** Resolves with the n-th event (0-based) once it arrived. */
  event(n: number, timeoutMs?: number): Promise<StatusEvent>;
  /** Unsubscribes (sends complete for WS, aborts the request for SSE). */
  stop(): void;
}

function collector(timeoutLabel: string) {
  const events: StatusEvent[] = [];
  const graphqlErrors: unknown[] = [];
  const waiters = new Set<() => void>();
  let endedResolve!: (value: Awaited<Watch['ended']>) => void;
  const ended = new Promise<Awaited<Watch['ended']>>((resolve) => (endedResolve = resolve));
  let finished = false;
  const poke = () => waiters.forEach((w) => w());
  const event = (n: number, timeoutMs = 10_000) =>
    new Promise<StatusEvent>((resolve, reject) => {
      const check = () => {
        if (events.length > n) {
          cleanup();
          resolve(events[n]!);
        } else if (finished) {
          cleanup();
          reject(new Error(`${timeoutLabel}: stream ended after ${events.length} event(s) [${events.map(stateOf)}], wanted #${n}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${timeoutLabel}: no event #${n} within ${timeoutMs} ms (have [${events.map(stateOf)}])`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  let bounded: Promise<Awaited<Watch['ended']>> | undefined;
  const endedWithin = (ms: number) =>
    Promise.race([
      ended,
      new Promise<never>((_, reject) => {
        const timer = setTimeout(() => reject(new Error(`${timeoutLabel}: stream did not end within ${ms} ms (have [${events.map(stateOf)}])`)), ms);
        void ended.then(() => clearTimeout(timer));
      }),
    ]);
  return {
    events,
    graphqlErrors,
    get ended() {
      return (bounded ??= endedWithin(15_000));
    },
    event,
    push(value: { data?: { unifyStatus: StatusEvent } | null; errors?: readonly unknown[] }) {
      if (value.errors?.length) graphqlErrors.push(...value.errors);
      if (value.data?.unifyStatus) events.push(value.data.unifyStatus);
      poke();
    },
    end(result: Awaited<Watch['ended']>) {
      if (finished) return;
      finished = true;
      endedResolve(result);
      poke();
    },
  };
}

/** Subscribes to one flow's status over graphql-ws. */
export function watchWs(client: Client, flowId: string): Watch {
  const c = collector('WS');
  const unsubscribe = client.subscribe<{ unifyStatus: StatusEvent }>(
    { query: print(WatchStatusDocument), variables: { flowId } },
    {
      next: (value) => c.push(value),
      error: (error) => c.end({ how: 'error', error }),
      complete: () => c.end({ how: 'complete' }),
    },
  );
  return { events: c.events, graphqlErrors: c.graphqlErrors, get ended() { return c.ended; }, event: c.event, stop: unsubscribe };
}

/** Subscribes over SSE (yoga's default: POST with Accept: text/event-stream). */
export function watchSse(graphqlUrl: string, flowId: string, headers: Record<string, string> = {}): Watch {
  const c = collector('SSE');
  const controller = new AbortController();
  void (async () => {
    try {
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
        body: JSON.stringify({ query: print(WatchStatusDocument), variables: { flowId } }),
        signal: controller.signal,
      });
      if (res.status !== 200 || !res.headers.get('content-type')?.includes('text/event-stream') || !res.body) {
        throw new Error(`SSE refused: ${res.status} ${await res.text()}`);
      }
      const decoder = new TextDecoder();
      let buffer = '';
      const reader = res.body.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffer += decoder.decode(read.value, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => line && !line.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]),
          );
          if (fields.event === 'next' && fields.data) c.push(JSON.parse(fields.data));
          if (fields.event === 'complete') return c.end({ how: 'complete' });
        }
      }
      c.end({ how: 'error', error: new Error('SSE stream closed without complete') });
    } catch (error) {
      c.end({ how: 'error', error });
    }
  })();
  return { events: c.events, graphqlErrors: c.graphqlErrors, get ended() { return c.ended; }, event: c.event, stop: () => controller.abort() };
}

/** Polls `probe` until it returns true (a server-side effect with no event to wait on). */
export async function eventually(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** A standalone emulator every instance under test talks to as its Prove (so /sim/stats sees all calls). */
export interface SharedProve {
  sim: EmulatorClient;
  /** Env for a gateway that uses this emulator as Prove. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startSharedProve(options: EmulatorOptions = {}): Promise<SharedProve> {
  const emulator = createProveEmulator({ clientId: 'emulator-client', clientSecret: 'emulator-secret', rateLimitPerSecond: 0, ...options });
  const served = await emulator.listen({ port: 0, host: '127.0.0.1' });
  return {
    sim: emulatorClient(served.url),
    env: { PROVE_CLIENT_ID: 'emulator-client', PROVE_CLIENT_SECRET: 'emulator-secret', PROVE_BASE_URL: served.url },
    async close() {
      await served.close();
      await emulator.close();
    },
  };
}

/**
 * The Redis the suites use. When none answers it skips on a developer's machine and fails in CI or
 * when REDIS_URL was set (see requirements.ts). Three tries of up to 3 s each: a busy machine is
 * not a missing Redis.
 */
export async function sharedRedis(): Promise<string | undefined> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let answered: string | undefined;
  for (let attempt = 0; attempt < 3 && !answered; attempt++) answered = await probeRedis(url);
  const ok = required(answered !== undefined, {
    what: `a Redis answering at ${url}`,
    fix: 'start redis-server (.ci/run does) or set REDIS_URL',
    promised: process.env.REDIS_URL !== undefined,
  });
  return ok ? url : undefined;
}

/** The Redis at `url`, or undefined when it does not answer PING. */
export async function probeRedis(url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<string | undefined> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return url;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
