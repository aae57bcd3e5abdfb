import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StartUnifyDocument, UnifyStatusDocument, FlowDocument } from '../generated/graphql.js';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { captureLogs, leaks, startUpstream, type Upstream } from '../security/support.js';

/**
 * Tracing end to end: a gateway exporting to a real OTLP/HTTP receiver on a free port, in both
 * encodings. A client's traceparent leads through the HTTP request, the GraphQL operation and the
 * flow steps to the Prove calls, whose own requests carry the trace on.
 */

/** OTLP's span kinds (one more than the API's enum). */
const SERVER = 2;
const CLIENT = 3;
const PHONE = '2001004014';

const traceparent = (traceId: string, spanId = 'b7ad6b7169203331') => `00-${traceId}-${spanId}-01`;
const randomHex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');

async function post(gw: TestGateway, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

/** Spans of one trace, once the receiver holds at least `count` of them whose names include `names`. */
async function traceOf(receiver: OtlpReceiver, traceId: string, names: string[]): Promise<ReceivedSpan[]> {
  let found: ReceivedSpan[] = [];
  await vi.waitFor(
    () => {
      found = receiver.spans.filter((s) => s.traceId === traceId);
      for (const name of names) expect(found.map((s) => s.name)).toContain(name);
    },
    { timeout: 10_000, interval: 50 },
  );
  return found;
}

describe.each(['http/protobuf', 'http/json'] as const)('OTLP over %s', (protocol) => {
  let receiver: OtlpReceiver;
  let upstream: Upstream;
  let gw: TestGateway;
  const logs = captureLogs('debug');
  const secrets = new Set<string>();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // Prove is a standalone emulator behind a recording hop: the test sees the headers Prove gets.
    upstream = await startUpstream();
    gw = await startGateway(
      {
        ...upstream.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: 'unify-gateway-under-test',
        // Short batches: the test waits for spans to arrive, not for the default 5 s schedule.
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      { logger: logs.logger },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    await receiver.close();
  });

  it("one trace from the client's traceparent through the operation and the flow step to the Prove call", async () => {
    const traceId = randomHex(16);
    const start = await post(
      gw,
      { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: PHONE } } },
      { traceparent: traceparent(traceId), tracestate: 'vendor=opaque', authorization: `Bearer ${TEST_API_KEY}`, 'x-request-id': `trace-${protocol}` },
    );
    expect(start.status).toBe(200);
    const { flow, authToken } = start.body.data.startUnify;
    secrets.add(flow.id).add(authToken).add(flow.correlationId).add(`+1${PHONE}`);

    const spans = await traceOf(receiver, traceId, ['POST /graphql', 'mutation.StartUnify', 'flow.start', 'POST /v3/unify']);
    expect(new Set(spans.map((s) => s.serviceName))).toEqual(new Set(['unify-gateway-under-test']));

    const http = spans.find((s) => s.name === 'POST /graphql')!;
    expect(http.parentSpanId).toBe('b7ad6b7169203331');
    expect(http.kind).toBe(SERVER);
    expect(http.traceState).toBe('vendor=opaque');
    expect(http.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200, 'http.request.header.x-request-id': [`trace-${protocol}`] });

    const operation = spans.find((s) => s.name === 'mutation.StartUnify')!;
    expect(operation.parentSpanId).toBe(http.spanId);
    expect(operation.attributes).toMatchObject({ 'graphql.execute.operationName': 'StartUnify', 'graphql.execute.operationType': 'mutation' });

    const step = spans.find((s) => s.name === 'flow.start')!;
    expect(step.parentSpanId).toBe(operation.spanId);
    expect(step.attributes).toMatchObject({ 'flow.step': 'start', 'flow.state': 'PENDING', 'flow.possession_type': 'MOBILE' });

    const unify = spans.find((s) => s.name === 'POST /v3/unify')!;
    expect(unify.kind).toBe(CLIENT);
    expect(unify.attributes).toMatchObject({ 'prove.endpoint': '/v3/unify', 'prove.attempt': 1, 'prove.region': 'us', 'http.response.status_code': 200, 'server.address': '127.0.0.1' });
    // The Prove call descends from the flow step (through the token exchange or directly).
    let cursor: ReceivedSpan | undefined = unify;
    while (cursor && cursor !== step) cursor = spans.find((s) => s.spanId === cursor!.parentSpanId);
    expect(cursor).toBe(step);

    // Prove was told: its /v3/unify request carried this trace, with the CLIENT span as parent.
    expect(upstream.seen.traceparents).toContainEqual({ path: '/v3/unify', traceparent: `00-${traceId}-${unify.spanId}-01` });

    // And the log lines of that request carry its request id and trace id.
    const started = logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'flow started' && l.requestId === `trace-${protocol}`);
    expect(started?.traceId).toBe(traceId);
  });

  it('a failed status read and a wrong variable leave a trace with error codes, never the values', async () => {
    const traceId = randomHex(16);
    const start = await post(gw, { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: PHONE } } });
    const flowId = start.body.data.startUnify.flow.id as string;
    secrets.add(flowId).add(start.body.data.startUnify.authToken);
    await post(gw, { query: print(UnifyStatusDocument), variables: { flowId } }, { traceparent: traceparent(traceId) });
    const spans = await traceOf(receiver, traceId, ['query.UnifyStatus', 'flow.refresh', 'POST /v3/unify-status']);
    expect(spans.find((s) => s.name === 'flow.refresh')!.attributes['flow.state']).toBe('FAILED');

    // graphql-js quotes a refused variable's value in its error: the exported event must not.
    const badId = randomHex(16);
    const refused = await post(
      gw,
      { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: 5551234567, bogus: '+15559876543' } } },
      { traceparent: traceparent(badId) },
    );
    expect(JSON.stringify(refused.body)).toContain('5551234567');
    secrets.add('5551234567').add('+15559876543');
    const failed = await traceOf(receiver, badId, ['POST /graphql']);
    const operation = failed.find((s) => s.name === 'mutation.StartUnify')!;
    expect(operation.status.code).toBe(2);
    // The errors are recorded by their codes only.
    expect(operation.events.map((e) => e.attributes['exception.message'])).toEqual(['GRAPHQL_ERROR,GRAPHQL_ERROR']);
    expect(failed.find((s) => s.name === 'POST /graphql')!.attributes['http.response.status_code']).toBe(400);
  });

  it('graphql-ws: the traceparent in connectionParams is the parent of every operation on that connection', async () => {
    const traceId = randomHex(16);
    const client = createClient({
      url: gw.graphqlUrl.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { traceparent: traceparent(traceId, 'a1a2a3a4a5a6a7a8'), 'x-request-id': `ws-${protocol}` },
      retryAttempts: 0,
    });
    try {
      const start = await post(gw, { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: PHONE } } });
      const flowId = start.body.data.startUnify.flow.id as string;
      secrets.add(flowId).add(start.body.data.startUnify.authToken);
      const result = await new Promise<any>((resolve, reject) => {
        client.subscribe({ query: print(FlowDocument), variables: { id: flowId } }, { next: resolve, error: reject, complete: () => {} });
      });
      expect(result.data.flow.state).toBe('PENDING');
      const spans = await traceOf(receiver, traceId, ['query.Flow', 'flow.find']);
      const operation = spans.find((s) => s.name === 'query.Flow')!;
      expect(operation.parentSpanId).toBe('a1a2a3a4a5a6a7a8');
      expect(spans.find((s) => s.name === 'flow.find')!.parentSpanId).toBe(operation.spanId);
      const line = logs.lines.map((l) => JSON.parse(l)).find((l) => l.requestId === `ws-${protocol}`);
      expect(line === undefined || line.traceId === traceId).toBe(true);
    } finally {
      await client.dispose();
    }
  });

  it('hostile trace headers are ignored, not trusted or echoed: a new trace starts', async () => {
    for (const bad of ['00-zzzz-b7ad6b7169203331-01', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`, 'x'.repeat(5000), `ff-${randomHex(16)}-b7ad6b7169203331-01`]) {
      const res = await post(gw, { query: '{ __typename }' }, { traceparent: bad, tracestate: '=,=,'.repeat(300) });
      expect(res.status).toBe(200);
    }
  });

  it('nothing exported holds a phone number, a token, an authToken, a correlation id or a flow id', async () => {
    // Everything sent so far has reached the receiver once the gateway flushes at close.
    await gw.shutdown(2_000);
    expect(receiver.contentTypes.every((t) => t.startsWith(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf'))).toBe(true);
    const exported = receiver.bodies.map((b) => b.toString('latin1'));
    expect(leaks(exported, [...secrets, TEST_API_KEY])).toEqual([]);
    // Names and attribute values too, decoded (a protobuf string could in principle be split).
    const text = JSON.stringify(receiver.spans);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(receiver.spans.length).toBeGreaterThan(10);
  });
});

describe('Redis and the seam for other outgoing work', () => {
  it('with Redis, the commands a traced request runs are CLIENT spans of its trace, by name only', async () => {
    const receiver = await startOtlpReceiver();
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const gw = await startGateway({ REDIS_URL: redisUrl, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
    try {
      const traceId = randomHex(16);
      const start = await post(gw, { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: PHONE } } }, { traceparent: traceparent(traceId) });
      const { flow, authToken } = start.body.data.startUnify;
      await vi.waitFor(() => expect(receiver.spans.filter((s) => s.traceId === traceId && s.name.startsWith('redis ')).length).toBeGreaterThan(0), { timeout: 10_000 });
      await gw.shutdown(2_000);
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      const redis = spans.filter((s) => s.name.startsWith('redis '));
      expect(redis.every((s) => s.kind === CLIENT && s.attributes['db.system.name'] === 'redis' && typeof s.attributes['db.operation.name'] === 'string')).toBe(true);
      // Every Redis span hangs off a span of this request.
      const ids = new Set(spans.map((s) => s.spanId));
      expect(redis.every((s) => ids.has(s.parentSpanId))).toBe(true);
      const text = JSON.stringify(receiver.spans) + receiver.bodies.map((b) => b.toString('latin1')).join('');
      for (const secret of [flow.id, authToken, PHONE]) expect(text).not.toContain(secret);
    } finally {
      await gw.close();
      await receiver.close();
    }
  });

  it('span(): outgoing work such as a webhook delivery is a span of the active trace, failures marked', async () => {
    const receiver = await startOtlpReceiver();
    const { startTracing } = await import('../../src/observability/tracing.js');
    const { readTracingConfig } = await import('../../src/observability/tracing-config.js');
    const config = readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, (name, why) => {
      throw new Error(`${name}: ${why}`);
    })!;
    const tracing = await startTracing(config, { graphqlPath: '/graphql', logger: captureLogs('silent').logger });
    try {
      await tracing.span('webhook deliver', { 'webhook.attempt': 1 }, async () => 'ok', SpanKind.CLIENT);
      await expect(tracing.span('webhook deliver', { 'webhook.attempt': 2 }, async () => { throw new TypeError('refused'); }, SpanKind.CLIENT)).rejects.toThrow('refused');
    } finally {
      await tracing.shutdown();
      await receiver.close();
    }
    const delivered = receiver.spans.filter((s) => s.name === 'webhook deliver');
    expect(delivered.map((s) => [s.kind, s.attributes['webhook.attempt'], s.status.code, s.attributes['error.type']])).toEqual([
      [CLIENT, 1, 0, undefined],
      [CLIENT, 2, 2, 'TypeError'],
    ]);
  });
});
