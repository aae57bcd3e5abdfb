import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parse, print } from 'graphql';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/app/gateway.js';
import { createStore, type Store } from '../../src/store/redis-store.js';
import { FlowRepository, flowKey } from '../../src/store/flow-repository.js';
import { createFlowEvents, type FlowEvents } from '../../src/events/flow-events.js';
import { expiryWheel } from '../../src/flows/flow-watch.js';
import { FlowService } from '../../src/flows/service.js';
import { processLocks } from '../../src/store/locks.js';
import { createProveClient } from '../../src/prove/index.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createMaskError } from '../../src/graphql/yoga.js';
import { createKnownSubscription } from '../../src/fastpath/known-subscription.js';
import { captureLogs } from '../security/support.js';
import type { Flow } from '../../src/flows/flow.js';
import { WatchStatusDocument } from '../generated/graphql.js';
import { PageWatchDocument } from '../../src/ui/page/generated/graphql.js';
import { WATCH as BENCH_WATCH } from '../../bench/lib/subscribers.js';
import { eventually, inBatches, timers } from '../live/support.js';
import { TEST_API_KEY } from '../support/gateway.js';
import { newFlowId, pendingFlow } from '../support/stored-flow.js';

/**
 * The lean graphql-ws path for the `unifyStatus` subscription (src/fastpath/known-subscription.ts)
 * says exactly what yoga's path says. Two production gateways share one store and one pub/sub:
 * `lean` with the path, `yoga` without it. Each subscription is sent to both over raw
 * graphql-transport-ws sockets, the flow is changed once in the shared store (save, then
 * publish, as FlowService.commit does), and every message each socket received must be the same
 * text; the served counter says which subscriptions the lean path took.
 */

let store: Store;
let events: FlowEvents;
let repo: FlowRepository;
let lean: Gateway;
let yoga: Gateway;
let served = 0;

const PROVE = { PROVE_BASE_URL: 'http://127.0.0.1:9', PROVE_CLIENT_ID: 'unused', PROVE_CLIENT_SECRET: 'unused' };
const env = { NODE_ENV: 'production', PORT: '0', GATEWAY_API_KEYS: TEST_API_KEY, ...PROVE };

async function pair(extra: Record<string, string> = {}) {
  const logger = pino({ level: 'silent' });
  return Promise.all([
    createGateway(loadConfig({ ...env, ...extra }), { logger, store, events, knownSubscription: { onServed: () => served++ } }),
    createGateway(loadConfig({ ...env, ...extra }), { logger, store, events, knownSubscription: false }),
  ]);
}

beforeAll(async () => {
  store = createStore(undefined);
  events = createFlowEvents();
  repo = new FlowRepository(store.keyv);
  [lean, yoga] = await pair();
});

afterAll(async () => {
  await lean?.close();
  await yoga?.close();
  await store?.close();
});

const newId = newFlowId;

async function seed(over: Partial<Flow> = {}): Promise<Flow> {
  const flow = pendingFlow(over);
  await repo.save(flow);
  return flow;
}

/** A stored change exactly as FlowService.commit makes it: save, then "flow X changed". */
async function change(flow: Flow, patch: Partial<Flow>): Promise<Flow> {
  const next: Flow = { ...flow, ...patch, updatedAt: flow.updatedAt + 1_000, version: flow.version + 1 };
  await repo.save(next);
  events.published(flowKey(flow.id), next.version);
  return next;
}

const failed = (code: number) => ({
  state: 'FAILED' as const,
  evaluation: [{ category: 'authentication', result: 'failure', failureReasons: [{ code, description: `reason ${code}`, category: 'authentication' }] }],
});

/** One raw graphql-transport-ws socket: every message it received, in order (pings answered, not kept). */
class Socket {
  readonly messages: string[] = [];
  closed: { code: number; reason: string } | undefined;
  #waiters = new Set<() => void>();
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = String(data);
      if (text === '{"type":"ping"}') return void socket.send('{"type":"pong"}');
      this.messages.push(text);
      this.#wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.#wake();
    });
  }

  #wake() {
    for (const wake of this.#waiters) wake();
  }

  static async open(gateway: Gateway, init: unknown = {}, headers: Record<string, string> = {}): Promise<Socket> {
    const socket = new WebSocket(gateway.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    const s = new Socket(socket);
    await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: init }));
    await s.until(() => s.messages.length > 0 || !!s.closed, 'connection_ack');
    return s;
  }

  send(message: unknown) {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Waits for something to have arrived (no time is asserted; the bound only stops a hung test). */
  until(probe: () => boolean, what: string): Promise<void> {
    if (probe()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.#waiters.delete(check), reject(new Error(`no ${what}: ${JSON.stringify(this.messages)}`))), 10_000);
      const check = () => {
        if (!probe()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  /** Every message sent so far has arrived: graphql-ws answers a ping in order after them. */
  async settle() {
    if (this.closed) return;
    const count = this.messages.length;
    this.send({ type: 'ping', payload: { n: count } });
    await this.until(() => this.messages.slice(count).some((m) => m.startsWith('{"type":"pong"')) || !!this.closed, 'pong');
    const at = this.messages.findIndex((m, i) => i >= count && m.startsWith('{"type":"pong"'));
    if (at >= 0) this.messages.splice(at, 1);
  }

  /** The messages of operation `id`. */
  of(id = '1') {
    return this.messages.filter((m) => m.includes(`"id":"${id}"`));
  }

  ended(id = '1') {
    return this.of(id).some((m) => m.includes('"type":"complete"') || m.includes('"type":"error"')) || !!this.closed;
  }

  close() {
    this.socket.terminate();
  }
}

interface Payload {
  query: string;
  variables?: unknown;
  operationName?: string | null;
}

const trusted = { authorization: `Bearer ${TEST_API_KEY}` };

/**
 * Subscribes to both gateways at once, waits for each one's first message, runs `drive` (a
 * stored change), then waits until the operation ended (or `open` leaves it running) and
 * compares everything each socket received.
 */
async function both(payload: Payload, options: { init?: unknown; drive?: () => Promise<unknown>; open?: boolean } = {}) {
  const before = served;
  const sockets = await Promise.all([Socket.open(lean, options.init ?? {}), Socket.open(yoga, options.init ?? {})]);
  try {
    for (const s of sockets) s.send({ id: '1', type: 'subscribe', payload });
    for (const s of sockets) await s.until(() => s.of().length > 0 || !!s.closed, 'first message');
    if (options.drive) await options.drive();
    if (!options.open) for (const s of sockets) await s.until(() => s.ended(), 'the end of the operation');
    for (const s of sockets) await s.settle();
    const [viaLean, viaYoga] = sockets.map((s) => ({ messages: s.messages, closed: s.closed }));
    return { viaLean: viaLean!, viaYoga: viaYoga!, tookLean: served > before, sockets };
  } finally {
    if (!options.open) for (const s of sockets) s.close();
  }
}

const README_WATCH = `subscription Watch($flowId: ID!) {   # the flow as it stands, then every change, then completes
  unifyStatus(flowId: $flowId) { __typename ... on UnifyStatusPayload { flow { state } } ... on Error { code } }
}`;
const ALIASED = `subscription { status: unifyStatus(flowId: $id) { __typename ... on UnifyStatusPayload { flow { id state phoneNumber correlationId deviceId } } ... on Error { code message } } }`
  .replace('subscription {', 'subscription A($id: ID!) {');
const LITERAL = (id: string) => `subscription { unifyStatus(flowId: "${id}") { __typename ... on Error { code message } ... on UnifyStatusPayload { flow { state phoneNumber } } } }`;

const DOCUMENTS: [string, (id: string) => Payload][] = [
  ['test/documents WatchStatus', (id) => ({ query: print(WatchStatusDocument), variables: { flowId: id } })],
  ['the status page PageWatch', (id) => ({ query: String(PageWatchDocument), variables: { flowId: id }, operationName: 'PageWatch' })],
  ["README's Watch", (id) => ({ query: README_WATCH, variables: { flowId: id } })],
  ["the bench's Watch", (id) => ({ query: BENCH_WATCH, variables: { flowId: id } })],
  ['an aliased field, other selections', (id) => ({ query: ALIASED, variables: { id } })],
  ['a literal argument', (id) => ({ query: LITERAL(id) })],
];

describe('known subscription: identical graphql-ws messages', () => {
  for (const [name, payload] of DOCUMENTS) {
    it(`${name}: PENDING, then VERIFIED, then complete; public and trusted`, async () => {
      for (const init of [{}, trusted]) {
        const flow = await seed();
        const { viaLean, viaYoga, tookLean } = await both(payload(flow.id), {
          init,
          drive: () => change(flow, { state: 'VERIFIED', deviceId: 'device-1' }),
        });
        expect(tookLean).toBe(true);
        expect(viaLean).toEqual(viaYoga);
        expect(viaLean.messages.filter((m) => m.includes('"next"'))).toHaveLength(2);
        expect(viaLean.messages.at(-1)).toBe('{"id":"1","type":"complete"}');
      }
    });
  }

  it('the phone number is masked for a public caller and whole for a trusted one, on both paths', async () => {
    const flow = await seed({ state: 'VERIFIED' });
    const pub = await both({ query: ALIASED, variables: { id: flow.id } });
    const key = await both({ query: ALIASED, variables: { id: flow.id } }, { init: trusted });
    expect(pub.viaLean).toEqual(pub.viaYoga);
    expect(key.viaLean).toEqual(key.viaYoga);
    expect(pub.viaLean.messages[1]).not.toContain('+12001004014');
    expect(pub.viaLean.messages[1]).toContain('"correlationId":null');
    expect(key.viaLean.messages[1]).toContain('+12001004014');
    expect(key.viaLean.messages[1]).toContain(flow.correlationId);
    // The upgrade's own Authorization header makes the caller trusted too.
    const s = await Socket.open(lean, {}, trusted);
    s.send({ id: '1', type: 'subscribe', payload: { query: ALIASED, variables: { id: flow.id } } });
    await s.until(() => s.ended(), 'complete');
    expect(s.of()[0]).toContain('+12001004014');
    s.close();
  });

  it('typed errors: 9101 mismatch, possession failed, expired, not found, ids that are no ids', async () => {
    const watch = DOCUMENTS[0]![1];
    const cases: [string, () => Promise<Payload>, ((id: string) => Promise<unknown>)?][] = [
      ['ProveKeyMismatchError as the flow changes', async () => watch((await seed()).id)],
      ['PossessionFailedError already stored', async () => watch((await seed(failed(9100))).id)],
      ['FlowExpiredError already stored', async () => watch((await seed({ state: 'EXPIRED' })).id)],
      ['a flow past its lifetime (expired by the read)', async () => watch((await seed({ expiresAt: Date.now() - 1_000 })).id)],
      ['FlowNotFoundError', async () => watch(newId())],
      ['an id of the wrong shape', async () => watch('x')],
      ['an empty id', async () => watch('')],
      ['a literal unknown id', async () => ({ query: LITERAL('no-such-flow') })],
    ];
    for (const [name, make] of cases) {
      const payload = await make();
      const flowId = (payload.variables as { flowId?: string } | undefined)?.flowId;
      const stored = flowId ? await repo.get(flowId) : undefined;
      const drive = name.startsWith('ProveKeyMismatchError') && stored ? () => change(stored, failed(9101)) : undefined;
      const { viaLean, viaYoga, tookLean } = await both(payload, { ...(drive && { drive }) });
      expect(tookLean, name).toBe(true);
      expect(viaLean, name).toEqual(viaYoga);
      expect(viaLean.messages.at(-1), name).toBe('{"id":"1","type":"complete"}');
      expect(viaLean.messages.join(), name).toMatch(/ProveKeyMismatchError|PossessionFailedError|FlowExpiredError|FlowNotFoundError/);
    }
  });

  it('a flow that expires while watched ends with FlowExpiredError on both', async () => {
    const flow = await seed({ expiresAt: Date.now() + 300 });
    const { viaLean, viaYoga } = await both(DOCUMENTS[0]![1](flow.id));
    // Both gateways' clocks expire the flow at expiresAt; whichever stores EXPIRED first sets its
    // updatedAt, and the other may announce its own copy a millisecond apart: everything else is equal.
    const sameInstant = (a: typeof viaLean) => ({ ...a, messages: a.messages.map((m) => m.replace(/"updatedAt":"[^"]+"/, '"updatedAt":"…"')) });
    expect(sameInstant(viaLean)).toEqual(sameInstant(viaYoga));
    expect(viaLean.messages.join()).toContain('FlowExpiredError');
  });

  it('an unexpected error in a resolver is masked in the next payload, as yoga masks it', async () => {
    const flow = await seed({ evaluation: 'corrupt' as unknown as Flow['evaluation'] });
    const { viaLean, viaYoga, tookLean } = await both(DOCUMENTS[0]![1](flow.id), { open: true });
    expect(tookLean).toBe(true);
    expect(viaLean).toEqual(viaYoga);
    expect(viaLean.messages.join()).toContain('Unexpected error.');
    expect(viaLean.messages.join()).not.toContain('flatMap');
  });

  it('a client complete ends the watch at once; later changes send nothing', async () => {
    const flow = await seed();
    const listeners = lean.liveStats().flowListeners;
    const { sockets } = await both(DOCUMENTS[0]![1](flow.id), { open: true });
    try {
      for (const s of sockets) s.send({ id: '1', type: 'complete' });
      await eventually(() => lean.liveStats().flowListeners === listeners, 'both watches released');
      await change(flow, { state: 'VERIFIED' });
      for (const s of sockets) await s.settle();
      const [viaLean, viaYoga] = sockets.map((s) => s.messages);
      expect(viaLean).toEqual(viaYoga);
      expect(viaLean!.filter((m) => m.includes('"next"'))).toHaveLength(1);
    } finally {
      for (const s of sockets) s.close();
    }
  });
});

describe('known subscription: an error that is none of the typed ones', () => {
  // Not reachable through a whole gateway (its store and pub/sub turn every failure into a typed
  // UpstreamError), so here the path is driven directly, over a FlowService whose store is not guarded.
  it('ends the stream with the masked error, logs the detail, and releases the watch and the gauge', async () => {
    const logs = captureLogs('error');
    const memory = createStore(undefined);
    const flowEvents = createFlowEvents();
    const flows = new FlowService({
      prove: createProveClient({ serverURL: 'http://127.0.0.1:9', clientId: 'unused', clientSecret: 'unused' }),
      repo: new FlowRepository(memory.keyv),
      events: flowEvents,
      locks: processLocks(),
      phonePolicy: { sandbox: true, allowedCountries: [] },
      flowTtlMs: 600_000,
      logger: logs.logger,
    });
    const id = newId();
    // A record the store cannot read: the watch's first read throws a SyntaxError.
    (memory.keyv.store as Map<string, unknown>).set(`unify:flow:${flowKey(id)}`, '{not json');
    const metrics = createMetrics();
    const known = createKnownSubscription({ metrics, maskError: createMaskError(logs.logger) });
    const args = known.prepare({
      document: parse(print(WatchStatusDocument)),
      operationName: undefined,
      variables: { flowId: id },
      context: { caller: { kind: 'public', address: '127.0.0.1' }, flows },
    });
    const stream = known.streamOf(args!)!;
    await expect(stream.next()).rejects.toMatchObject({ message: 'Unexpected error.' });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(logs.lines.some((line) => line.includes('unexpected error') && line.includes('SyntaxError'))).toBe(true);
    expect(flowEvents.listenerCount()).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('unify_subscriptions_open')).toMatch(/^unify_subscriptions_open 0$/m);
    await memory.close();
  });
});

describe('known subscription: everything else takes yoga\'s path and answers the same', () => {
  const id = 'AAAAAAAAAAAAAAAAAAAAAAAA';
  const watch = print(WatchStatusDocument);
  const cases: [string, Payload][] = [
    ['a missing variable', { query: watch, variables: {} }],
    ['a variable of the wrong type', { query: watch, variables: { flowId: { a: 1 } } }],
    ['a null variable', { query: watch, variables: { flowId: null } }],
    ['variables that are no object', { query: watch, variables: [id] }],
    ['a syntax error', { query: 'subscription { unifyStatus(flowId: "x") { __typename ' }],
    ['an unknown field', { query: 'subscription { unifyStatus(flowId: "x") { nope } }' }],
    ['two root fields', { query: 'subscription { a: unifyStatus(flowId: "x") { __typename } b: unifyStatus(flowId: "y") { __typename } }' }],
    ['__typename at the root', { query: 'subscription { __typename }' }],
    ['a directive on the root field', { query: 'subscription { unifyStatus(flowId: "x") @include(if: true) { __typename ... on Error { code } } }' }],
    ['a fragment spread at the root', { query: 'subscription { ...S } fragment S on Subscription { unifyStatus(flowId: "x") { __typename ... on Error { code } } }' }],
    ['two operations, the subscription selected', { query: `query Q { __typename } subscription S { unifyStatus(flowId: "x") { __typename ... on Error { code } } }`, operationName: 'S' }],
    ['an unknown operationName', { query: watch, variables: { flowId: id }, operationName: 'Nope' }],
    ['too deep', { query: `subscription { unifyStatus(flowId: "x") { ${'... on UnifyStatusPayload { flow { ... on UnifyFlow { '.repeat(8)}id${' } } }'.repeat(8)} } }` }],
    ['too many tokens', { query: `subscription { unifyStatus(flowId: "x") { ${'__typename '.repeat(1200)} } }` }],
    ['a query over graphql-ws', { query: `{ flow(id: "${id}") { id } }` }],
  ];
  for (const [name, payload] of cases) {
    it(name, async () => {
      const { viaLean, viaYoga, tookLean } = await both(payload);
      expect(tookLean).toBe(false);
      expect(viaLean).toEqual(viaYoga);
    });
  }

  it('a bad API key is refused at connect (4403) on both', async () => {
    const [a, b] = await Promise.all([Socket.open(lean, { authorization: 'Bearer wrong-key' }), Socket.open(yoga, { authorization: 'Bearer wrong-key' })]);
    for (const s of [a!, b!]) await s.until(() => !!s.closed, 'close');
    expect(a!.closed).toEqual(b!.closed);
    expect(a!.closed?.code).toBe(4403);
    expect(a!.messages).toEqual(b!.messages);
  });

  it('an oversized subscribe message closes the socket the same way', async () => {
    const payload = { query: watch, variables: { flowId: id, padding: 'x'.repeat(70_000) } };
    const [a, b] = await Promise.all([Socket.open(lean), Socket.open(yoga)]);
    for (const s of [a!, b!]) {
      s.send({ id: '1', type: 'subscribe', payload });
      await s.until(() => !!s.closed, 'close');
    }
    expect(a!.closed).toEqual(b!.closed);
    expect(a!.messages).toEqual(b!.messages);
  });
});

describe('known subscription: draining', () => {
  it('open subscriptions close with 1001 and a subscription sent during the drain is not run, on both', async () => {
    const [drainLean, drainYoga] = await pair();
    const flow = await seed();
    const before = served;
    const outcome = async (gateway: Gateway) => {
      const s = await Socket.open(gateway);
      s.send({ id: '1', type: 'subscribe', payload: { query: watch(), variables: { flowId: flow.id } } });
      await s.until(() => s.of('1').length > 0, 'first next');
      const late = await Socket.open(gateway);
      const closing = gateway.shutdown(5_000);
      late.send({ id: '2', type: 'subscribe', payload: { query: watch(), variables: { flowId: flow.id } } });
      await closing;
      for (const x of [s, late]) await x.until(() => !!x.closed, 'close');
      return { open: { messages: s.messages, closed: s.closed }, late: { messages: late.messages, closed: late.closed } };
    };
    const [viaLean, viaYoga] = await Promise.all([outcome(drainLean), outcome(drainYoga)]);
    expect(served).toBe(before + 1);
    expect(viaLean).toEqual(viaYoga);
    expect(viaLean.open.closed?.code).toBe(1001);
    expect(viaLean.late.messages.some((m) => m.includes('"id":"2"') && m.includes('"next"'))).toBe(false);
  });
  const watch = () => print(WatchStatusDocument);
});

describe('graphql-ws binding (src/transport/ws-binding.ts): one keep-alive for every socket', () => {
  it('a socket that answers pings stays open; one that stops answering is terminated', async () => {
    const gateway = await createGateway(loadConfig(env), { logger: pino({ level: 'silent' }), store, events, wsKeepAliveMs: 50 });
    try {
      const url = gateway.graphqlUrl.replace(/^http/, 'ws');
      const open = (autoPong: boolean) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(url, 'graphql-transport-ws', { autoPong });
          socket.once('open', () => resolve(socket)).once('error', reject);
        });
      const [answering, silent] = await Promise.all([open(true), open(false)]);
      let pings = 0;
      answering.on('ping', () => pings++);
      const closed = await new Promise<number>((resolve) => silent.once('close', resolve));
      expect(closed).toBe(1006);
      // Pinged more than once meanwhile, and still open.
      await eventually(() => pings >= 3, 'pings to the answering socket');
      expect(answering.readyState).toBe(WebSocket.OPEN);
      answering.close();
    } finally {
      await gateway.close();
    }
  });
});

describe('known subscription: metrics', () => {
  const scrape = async (g: Gateway) => {
    const text = await (await fetch(`${g.url}/metrics`)).text();
    const series = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!(line.startsWith('graphql_') || line.startsWith('unify_subscriptions')) || line.includes('quantile=')) continue;
      const at = line.lastIndexOf(' ');
      const name = line.slice(0, at);
      // Durations differ; which series moved, and the counts, must not.
      if (name.includes('_sum') || name.includes('_bucket')) continue;
      series.set(name, Number(line.slice(at + 1)));
    }
    return series;
  };
  const delta = (a: Map<string, number>, b: Map<string, number>) => {
    const out: Record<string, number> = {};
    for (const [k, v] of b) if (v !== (a.get(k) ?? 0)) out[k] = v - (a.get(k) ?? 0);
    return out;
  };

  it('subscriptions on the lean path move the same Prometheus series as through yoga', async () => {
    const [l0, y0] = [await scrape(lean), await scrape(yoga)];
    const pending = await seed();
    // Ended by the flow, by an error result, by a typed error, and one still open when scraped.
    await both(DOCUMENTS[0]![1](pending.id), { drive: () => change(pending, { state: 'BOUND' }) });
    const corrupt = await seed({ evaluation: 'corrupt' as unknown as Flow['evaluation'] });
    const open = await both(DOCUMENTS[0]![1](corrupt.id), { open: true });
    await both(DOCUMENTS[0]![1](newId()));
    const [l1, y1] = [await scrape(lean), await scrape(yoga)];
    expect(delta(l0, l1)).toEqual(delta(y0, y1));
    expect(delta(l0, l1)).toMatchObject({ 'graphql_envelop_request{operationType="subscription"}': 2, unify_subscriptions_open: 1 });
    for (const s of open.sockets) s.close();
    await eventually(async () => (await scrape(lean)).get('unify_subscriptions_open') === l0.get('unify_subscriptions_open'), 'lean gauge back');
    await eventually(async () => (await scrape(yoga)).get('unify_subscriptions_open') === y0.get('unify_subscriptions_open'), 'yoga gauge back');
    const [l2, y2] = [await scrape(lean), await scrape(yoga)];
    expect(delta(l0, l2)).toEqual(delta(y0, y2));
  });
});

describe('known subscription: nothing leaks', () => {
  it('after 2,000 subscribe/unsubscribe cycles on the lean path, listeners, expiry entries and timers are back at their baseline', async () => {
    const flows = await Promise.all(Array.from({ length: 10 }, () => seed()));
    const sockets = await Promise.all(Array.from({ length: 20 }, () => Socket.open(lean)));
    const cycle = async (i: number) => {
      const s = sockets[i % sockets.length]!;
      const opId = `c${i}`;
      s.send({ id: opId, type: 'subscribe', payload: { query: print(WatchStatusDocument), variables: { flowId: flows[i % flows.length]!.id } } });
      await s.until(() => s.of(opId).length > 0, `first next of ${opId}`);
      s.send({ id: opId, type: 'complete' });
    };
    const listeners = lean.liveStats().flowListeners;
    await inBatches(Array.from({ length: 100 }, (_, i) => i), 20, cycle);
    await eventually(() => lean.liveStats().flowListeners === listeners, 'warm-up listeners released');
    const baseline = { timers: timers(), wheel: expiryWheel.size };
    const before = served;
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      await inBatches(Array.from({ length: 2_000 }, (_, i) => i + 100), 50, cycle);
    } finally {
      process.off('warning', onWarning);
    }
    expect(served - before).toBe(2_000);
    await eventually(() => lean.liveStats().flowListeners === listeners, 'listeners back after 2,000 cycles');
    await eventually(() => expiryWheel.size === baseline.wheel, 'expiry entries back');
    await eventually(() => timers() <= baseline.timers, `timers back to ${baseline.timers} (now ${timers()})`);
    expect(warnings).toEqual([]);
    for (const s of sockets) s.close();
  }, 60_000);
});
