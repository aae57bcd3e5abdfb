import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { started, status, trusted, verifiedMobile } from '../support/flows.js';
import { BindPhoneDocument } from '../generated/graphql.js';
import {
  eventually, liveClient, startSharedProve, stateOf, timers, trustedClient, watchSse, watchWs, wsUrl, type SharedProve, type Watch,
} from './support.js';

/**
 * The unifyStatus subscription on one instance (in-memory store and pub/sub), as a status page
 * sees it: over graphql-ws and over SSE, on real sockets against the embedded emulator.
 */

let gw: TestGateway;
let client: Client;
const watches: Watch[] = [];
const track = (watch: Watch) => (watches.push(watch), watch);

beforeAll(async () => {
  // The default keep-alive (12 s): a 150 ms one ends a shared socket whose pong is one tick late on
  // a busy machine. The ping test below has a gateway of its own.
  gw = await startGateway();
  client = liveClient(gw.graphqlUrl);
});
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
});
afterAll(async () => {
  await client.dispose();
  await gw.close();
});

describe('graphql-ws on the HTTP port and path', () => {
  it('PENDING, then VERIFIED once the device finished and unifyStatus ran, then the stream completes', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const watch = track(watchWs(client, flow.id));
    const first = await watch.event(0);
    expect(first.__typename === 'UnifyStatusPayload' && first.flow).toMatchObject({ id: flow.id, state: 'PENDING', phoneNumber: '***4014' });

    await gw.sim.authenticate({ authToken, otp: '1234' });
    const polled = await status(gw, flow.id);
    expect(polled.__typename === 'UnifyStatusPayload' && polled.flow.state).toBe('VERIFIED');

    expect(await watch.ended).toEqual({ how: 'complete' });
    expect(watch.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
    expect(watch.graphqlErrors).toEqual([]);
    // A public subscriber never sees Prove's correlation id.
    expect(watch.events.every((e) => e.__typename === 'UnifyStatusPayload' && e.flow.correlationId === null)).toBe(true);
  });

  it('a subscription to a finished flow gets its final state at once and completes', async () => {
    const verified = await verifiedMobile(gw, '2001004014');
    const watch = track(watchWs(client, verified.id));
    expect(await watch.ended).toEqual({ how: 'complete' });
    expect(watch.events.map(stateOf)).toEqual(['VERIFIED']);
  });

  it('9101 arrives as ProveKeyMismatchError, and the stream completes', async () => {
    const first = await verifiedMobile(gw, '2001004014');
    const other = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015', deviceId: first.deviceId! });
    const watch = track(watchWs(client, other.flow.id));
    expect(stateOf(await watch.event(0))).toBe('PENDING');

    await gw.sim.authenticate({ authToken: other.authToken });
    await status(gw, other.flow.id);

    expect(await watch.ended).toEqual({ how: 'complete' });
    expect(watch.events.map(stateOf)).toEqual(['PENDING', 'ProveKeyMismatchError']);
    const mismatch = watch.events[1]!;
    expect(mismatch.__typename === 'ProveKeyMismatchError' && mismatch).toMatchObject({
      code: 'PROVE_KEY_MISMATCH', upstreamCode: 9101, rebindRequired: true, flow: { id: other.flow.id, state: 'FAILED' },
    });
  });

  it('an unknown flow id is FlowNotFoundError, then completion', async () => {
    for (const flowId of ['AAAAAAAAAAAAAAAAAAAAAAAA', 'not-a-flow-id']) {
      const watch = track(watchWs(client, flowId));
      expect(await watch.ended).toEqual({ how: 'complete' });
      expect(watch.events).toEqual([{ __typename: 'FlowNotFoundError', code: 'FLOW_NOT_FOUND', message: expect.any(String) }]);
    }
  });

  it('a public caller cannot bind over WebSocket; a trusted one (API key in connectionParams) can', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'NONE', phoneNumber: '2001004014' });
    await gw.sim.authenticate({ authToken });
    const required = await status(gw, flow.id);
    expect(required.__typename === 'UnifyStatusPayload' && required.flow.state).toBe('POSSESSION_REQUIRED');

    const bindOver = (c: Client) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        let result: Record<string, unknown> = {};
        c.subscribe(
          { query: print(BindPhoneDocument), variables: { input: { flowId: flow.id, phoneNumber: '2001004014' } } },
          { next: (v) => (result = v as Record<string, unknown>), error: reject, complete: () => resolve(result) },
        );
      });

    const refused = await bindOver(client);
    expect(refused).toMatchObject({ data: { bindPhone: { __typename: 'NotAuthorizedError', code: 'NOT_AUTHORIZED' } } });
    expect((await status(gw, flow.id)).__typename === 'UnifyStatusPayload').toBe(true);

    const backend = trustedClient(gw.graphqlUrl);
    try {
      const bound = await bindOver(backend);
      expect(bound).toMatchObject({ data: { bindPhone: { __typename: 'BindPhonePayload', flow: { state: 'BOUND', phoneNumber: '+12001004014' } } } });
    } finally {
      await backend.dispose();
    }
  });

  it('a wrong API key in connectionParams is refused before any operation (4403)', async () => {
    const wrong = liveClient(gw.graphqlUrl, { apiKey: 'not-the-key-0000000000000' });
    try {
      const watch = watchWs(wrong, 'AAAAAAAAAAAAAAAAAAAAAAAA');
      const ended = await watch.ended;
      expect(ended.how).toBe('error');
      expect(ended.how === 'error' && (ended.error as { code?: number }).code).toBe(4403);
      expect(watch.events).toEqual([]);
    } finally {
      await wrong.dispose();
    }
  });

  it('speaks graphql-transport-ws only, and pings an idle connection', async () => {
    const pinging = await startGateway({}, { wsKeepAliveMs: 150 });
    const socket = new WebSocket(wsUrl(pinging.graphqlUrl), 'graphql-transport-ws');
    try {
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      expect(socket.protocol).toBe('graphql-transport-ws');
      socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
      const pings = await new Promise<number>((resolve) => {
        let count = 0;
        socket.on('ping', () => ++count === 2 && resolve(count));
      });
      expect(pings).toBe(2);
    } finally {
      socket.terminate();
      await pinging.close();
    }
    // Any other subprotocol (the legacy subscriptions-transport-ws one included) is not agreed to.
    const legacy = new WebSocket(wsUrl(gw.graphqlUrl), 'graphql-ws');
    const refused = await new Promise<Error>((resolve) => legacy.once('error', resolve));
    expect(refused.message).toMatch(/no subprotocol/);
  });
});

describe('SSE', () => {
  it('PENDING, then VERIFIED, then complete', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const watch = track(watchSse(gw.graphqlUrl, flow.id));
    expect(stateOf(await watch.event(0))).toBe('PENDING');
    await gw.sim.authenticate({ authToken, otp: '1234' });
    await status(gw, flow.id);
    expect(await watch.ended).toEqual({ how: 'complete' });
    expect(watch.events.map(stateOf)).toEqual(['PENDING', 'VERIFIED']);
  });

  it('trusted over SSE (Authorization header) sees the correlation id; an unknown id is FlowNotFoundError', async () => {
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const watch = track(watchSse(gw.graphqlUrl, flow.id, { authorization: `Bearer ${TEST_API_KEY}` }));
    const first = await watch.event(0);
    expect(first.__typename === 'UnifyStatusPayload' && first.flow.correlationId).toMatch(/\S/);

    const unknown = track(watchSse(gw.graphqlUrl, 'AAAAAAAAAAAAAAAAAAAAAAAA'));
    expect(await unknown.ended).toEqual({ how: 'complete' });
    expect(unknown.events.map(stateOf)).toEqual(['FlowNotFoundError']);
  });
});

describe('releasing what a subscriber holds', () => {
  it('unsubscribe, socket close and SSE disconnect each release the listener and the expiry timer at once', async () => {
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const settled = () => gw.liveStats().flowListeners === 0;
    await eventually(settled, 'no listeners before');
    const baseTimers = timers();

    // unsubscribe (graphql-ws "complete")
    const a = watchWs(client, flow.id);
    await a.event(0);
    expect(gw.liveStats().flowListeners).toBe(1);
    a.stop();
    await eventually(settled, 'listener released after unsubscribe');

    // the client's socket goes away
    const other = liveClient(gw.graphqlUrl);
    const b = watchWs(other, flow.id);
    await b.event(0);
    expect(gw.liveStats().flowListeners).toBe(1);
    await other.dispose();
    await eventually(settled, 'listener released after disconnect');

    // SSE: the HTTP client goes away
    const c = watchSse(gw.graphqlUrl, flow.id);
    await c.event(0);
    expect(gw.liveStats().flowListeners).toBe(1);
    c.stop();
    await eventually(settled, 'listener released after SSE disconnect');

    await eventually(() => timers() <= baseTimers, `timers back to ${baseTimers} (now ${timers()})`);
  });
});

describe('expiry', () => {
  let short: TestGateway;
  let shortClient: Client;
  beforeAll(async () => {
    short = await startGateway({ FLOW_TTL: '1s' });
    shortClient = liveClient(short.graphqlUrl);
  });
  afterAll(async () => {
    await shortClient.dispose();
    await short.close();
  });

  it('FlowExpiredError arrives at expiresAt with nothing else happening, over WS and SSE', async () => {
    const { flow } = await started(short, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const ws = track(watchWs(shortClient, flow.id));
    const sse = track(watchSse(short.graphqlUrl, flow.id));
    await Promise.all([ws.event(0), sse.event(0)]);
    const expiresAt = Date.parse(flow.expiresAt);

    for (const watch of [ws, sse]) {
      expect(await watch.ended).toEqual({ how: 'complete' });
      expect(watch.events.map(stateOf)).toEqual(['PENDING', 'FlowExpiredError']);
      const expired = watch.events[1]!;
      expect(expired.__typename === 'FlowExpiredError' && expired).toMatchObject({ code: 'FLOW_EXPIRED', flow: { id: flow.id, state: 'EXPIRED' } });
    }
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(Date.now()).toBeLessThan(expiresAt + 1_000);
    // The expiry was stored, not only told: a later read agrees, and a late subscriber gets it at once.
    expect((await status(short, flow.id, trusted)).__typename).toBe('FlowExpiredError');
    const late = track(watchWs(shortClient, flow.id));
    expect(await late.ended).toEqual({ how: 'complete' });
    expect(late.events.map(stateOf)).toEqual(['FlowExpiredError']);
  });
});

describe('production mode', () => {
  let prove: SharedProve;
  let prod: TestGateway;
  beforeAll(async () => {
    prove = await startSharedProve();
    prod = await startGateway({ NODE_ENV: 'production', ...prove.env });
  });
  afterAll(async () => {
    await prod?.close();
    await prove?.close();
  });

  it('introspection is refused over WebSocket exactly as over HTTP; the subscription still works', async () => {
    const query = '{ __schema { types { name } } }';
    const http = await prod.raw({ query });
    expect(http.body.data ?? undefined).toBeUndefined();
    const httpMessages = http.body.errors?.map((e) => e.message);
    expect(httpMessages?.[0]).toMatch(/introspection has been disabled/i);

    const prodClient = liveClient(prod.graphqlUrl);
    try {
      const overWs = await new Promise<unknown>((resolve) => {
        prodClient.subscribe({ query }, { next: resolve, error: resolve, complete: () => {} });
      });
      expect(Array.isArray(overWs)).toBe(true);
      expect((overWs as { message: string }[]).map((e) => e.message)).toEqual(httpMessages);

      const { flow } = await started(prod, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
      const watch = watchWs(prodClient, flow.id);
      expect(stateOf(await watch.event(0))).toBe('PENDING');
      watch.stop();
    } finally {
      await prodClient.dispose();
    }
  });
});
