import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { started, status } from '../support/flows.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { leaks } from '../security/support.js';
import { stateOf, watchSse, watchWs, wsUrl } from '../live/support.js';

/**
 * `unifyStatus` subscriptions with tracing on, over graphql-ws and SSE: every operation runs
 * through yoga's envelope (src/graphql/operation.ts), where the operation's span is made, so each
 * has its span, the child of the client's trace context (connectionParams for graphql-ws, the
 * request's headers for SSE).
 */

const PHONE = '2001004018';
const SERVER = 2;
const randomHex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');

describe('subscription operation spans', () => {
  let otlp: OtlpReceiver;
  let gw: TestGateway;
  const secrets = new Set<string>([PHONE]);

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    gw = await startGateway(
      { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '50' },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await otlp?.close();
  });

  const spansOf = async (traceId: string, name: string): Promise<ReceivedSpan[]> => {
    let found: ReceivedSpan[] = [];
    await vi.waitFor(
      () => {
        found = otlp.spans.filter((s) => s.traceId === traceId);
        expect(found.map((s) => s.name)).toContain(name);
      },
      { timeout: 10_000, interval: 50 },
    );
    return found;
  };

  const newFlow = async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: PHONE }, { apiKey: TEST_API_KEY });
    secrets.add(flow.id).add(authToken).add(flow.correlationId ?? flow.id);
    return flow.id as string;
  };

  /** Watches a new flow until it ends: the first event (PENDING), then a status read verifies it and the stream completes. */
  const watchToEnd = async (watch: (flowId: string) => ReturnType<typeof watchWs>) => {
    const flowId = await newFlow();
    const w = watch(flowId);
    await w.event(0);
    await status(gw, flowId);
    expect(await w.ended).toEqual({ how: 'complete' });
    expect(w.events.map(stateOf).at(-1)).toBe('VERIFIED');
  };

  it('graphql-ws: the unifyStatus subscription is an operation span under the traceparent in connectionParams', async () => {
    const traceId = randomHex(16);
    const client = createClient({
      url: wsUrl(gw.graphqlUrl),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${TEST_API_KEY}`, traceparent: `00-${traceId}-d1d2d3d4d5d6d7d8-01` },
    });
    try {
      await watchToEnd((id) => watchWs(client, id));
      const spans = await spansOf(traceId, 'subscription.WatchStatus');
      const operation = spans.find((s) => s.name === 'subscription.WatchStatus')!;
      expect(operation.parentSpanId).toBe('d1d2d3d4d5d6d7d8');
      expect(operation.attributes).toMatchObject({ 'graphql.execute.operationType': 'subscription', 'graphql.execute.operationName': 'WatchStatus' });
    } finally {
      await client.dispose();
    }
  });

  it('SSE: the subscription is an operation span under the request, itself under the client traceparent', async () => {
    const traceId = randomHex(16);
    await watchToEnd((id) => watchSse(gw.graphqlUrl, id, { authorization: `Bearer ${TEST_API_KEY}`, traceparent: `00-${traceId}-e1e2e3e4e5e6e7e8-01` }));
    const spans = await spansOf(traceId, 'subscription.WatchStatus');
    const http = spans.find((s) => s.kind === SERVER)!;
    expect(http.parentSpanId).toBe('e1e2e3e4e5e6e7e8');
    expect(spans.find((s) => s.name === 'subscription.WatchStatus')!.parentSpanId).toBe(http.spanId);
  });

  it('hostile trace context in connectionParams (not a string, too long, malformed) is ignored: the operation starts its own trace', async () => {
    const before = otlp.spans.filter((s) => s.name === 'subscription.WatchStatus').length;
    for (const traceparent of [{ nested: true }, 'x'.repeat(5000), '00-zz-zz-01', 42]) {
      const client = createClient({ url: wsUrl(gw.graphqlUrl), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${TEST_API_KEY}`, traceparent } });
      try {
        await watchToEnd((id) => watchWs(client, id));
      } finally {
        await client.dispose();
      }
    }
    await vi.waitFor(() => expect(otlp.spans.filter((s) => s.name === 'subscription.WatchStatus').length).toBe(before + 4), { timeout: 10_000, interval: 50 });
    const fresh = otlp.spans.filter((s) => s.name === 'subscription.WatchStatus').slice(before);
    expect(fresh.every((s) => s.parentSpanId === '')).toBe(true);
  });

  it('nothing exported holds a flow id, a token or the number', async () => {
    await gw.shutdown(2_000);
    expect(leaks(otlp.bodies.map((b) => b.toString('latin1')), secrets)).toEqual([]);
    const text = JSON.stringify(otlp.spans);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
