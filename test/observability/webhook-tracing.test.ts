import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StartUnifyDocument, UnifyStatusDocument } from '../generated/graphql.js';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { leaks } from '../security/support.js';
import { redisServerBin, startOwnRedis, type OwnRedis } from '../resilience/support.js';
import { newSecret, startReceiver, type Receiver } from '../webhooks/receiver.js';
import { FAST_RETRIES } from '../webhooks/support.js';

/**
 * Webhook deliveries in the trace of the transition that caused them: a gateway exporting to a
 * real OTLP/HTTP receiver, delivering to a real webhook receiver, in memory mode (in-process
 * queue) and Redis mode (BullMQ jobs, where the trace context has to travel in the job).
 */

const CLIENT = 3;
const PHONE = '2001004018';
const randomHex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
const bin = redisServerBin();

async function post(gw: TestGateway, query: unknown, variables: unknown, headers: Record<string, string>) {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}`, ...headers },
    body: JSON.stringify({ query: print(query as any), variables }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as any;
}

describe.each([
  { mode: 'memory', redis: false },
  { mode: 'Redis (BullMQ)', redis: true },
])('webhook delivery spans, $mode', ({ redis: withRedis }) => {
  const secret = newSecret();
  let otlp: OtlpReceiver;
  let hooks: Receiver;
  let redis: OwnRedis | undefined;
  let gw: TestGateway;
  const secrets = new Set<string>([secret, '/hooks/unify', PHONE]);

  beforeAll(async () => {
    if (withRedis && !bin) throw new Error('redis-server is needed for the Redis mode');
    [otlp, hooks, redis] = await Promise.all([startOtlpReceiver(), startReceiver(secret), withRedis ? startOwnRedis(bin!) : undefined]);
    gw = await startGateway({
      ...(redis && { REDIS_URL: redis.url }),
      WEBHOOK_URL: hooks.url,
      WEBHOOK_SECRET: secret,
      ...FAST_RETRIES,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
    await hooks?.close();
    await otlp?.close();
    await redis?.close();
  });

  it('each attempt is a CLIENT span under the transition that caused it, and the receiver gets the trace', async () => {
    const start = await post(gw, StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: PHONE } }, {});
    const { flow, authToken } = start.data.startUnify;
    secrets.add(flow.id).add(authToken).add(flow.correlationId);

    // The backend fails once, then accepts: two attempts, both in the status read's trace.
    hooks.script([503]);
    const traceId = randomHex(16);
    const status = await post(gw, UnifyStatusDocument, { flowId: flow.id }, { traceparent: `00-${traceId}-c1c2c3c4c5c6c7c8-01` });
    expect(status.data.unifyStatus.flow.state).toBe('VERIFIED');

    let spans: ReceivedSpan[] = [];
    await vi.waitFor(
      () => {
        spans = otlp.spans.filter((s) => s.traceId === traceId);
        expect(spans.filter((s) => s.name === 'webhook POST').length).toBe(2);
        expect(spans.map((s) => s.name)).toContain('query.UnifyStatus');
      },
      { timeout: 15_000, interval: 50 },
    );
    const operation = spans.find((s) => s.name === 'query.UnifyStatus')!;
    const refresh = spans.find((s) => s.name === 'flow.refresh')!;
    expect(refresh.parentSpanId).toBe(operation.spanId);
    const attempts = spans.filter((s) => s.name === 'webhook POST').sort((x, y) => Number(x.attributes['webhook.attempt']) - Number(y.attributes['webhook.attempt']));
    // Parent: the flow step that stored VERIFIED, whatever instance or queue ran the attempt.
    expect(attempts.every((s) => s.kind === CLIENT && s.parentSpanId === refresh.spanId)).toBe(true);
    expect(attempts.map((s) => [s.attributes['webhook.attempt'], s.attributes['http.response.status_code'], s.attributes['webhook.outcome'], s.status.code, s.attributes['error.type']])).toEqual([
      [1, 503, 'retry', 2, '503'],
      [2, 204, 'delivered', 0, undefined],
    ]);
    const origin = new URL(hooks.url).origin;
    expect(attempts[0]!.attributes).toMatchObject({ 'webhook.event': 'flow.verified', 'webhook.endpoint': origin, 'http.request.method': 'POST', 'server.address': '127.0.0.1' });

    // The backend can continue the trace: each request carried its own attempt's span as parent.
    const seen = hooks.received.filter((r) => r.verified?.data.flowId === flow.id);
    expect(seen.map((r) => r.traceparent)).toEqual(attempts.map((s) => `00-${traceId}-${s.spanId}-01`));
    for (const r of seen) secrets.add(r.id);
  });

  it('without a client traceparent the attempt joins the trace the gateway started for the request', async () => {
    const start = await post(gw, StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: PHONE } }, {});
    const { flow, authToken } = start.data.startUnify;
    secrets.add(flow.id).add(authToken).add(flow.correlationId);
    const before = otlp.spans.filter((s) => s.name === 'webhook POST').length;
    // No traceparent: the gateway's own SERVER span starts the trace (everything is sampled by default).
    await post(gw, UnifyStatusDocument, { flowId: flow.id }, {});
    await vi.waitFor(() => expect(otlp.spans.filter((s) => s.name === 'webhook POST').length).toBe(before + 1), { timeout: 15_000, interval: 50 });
    const span = otlp.spans.filter((s) => s.name === 'webhook POST').at(-1)!;
    expect(span.attributes['webhook.outcome']).toBe('delivered');
    expect(otlp.spans.some((s) => s.spanId === span.parentSpanId && s.traceId === span.traceId)).toBe(true);
  });

  // Only Redis mode keeps deliveries where someone else could write them.
  if (withRedis) it('hostile stored trace context: a job carrying a forged traceparent is delivered, in a fresh trace', async () => {
    const { Queue } = await import('bullmq');
    const { WEBHOOK_QUEUE_NAME, WEBHOOK_QUEUE_PREFIX } = await import('../../src/webhooks/bullmq-queue.js');
    const { Redis } = await import('ioredis');
    const connection = new Redis(redis!.url);
    const queue = new Queue(WEBHOOK_QUEUE_NAME, { connection, prefix: WEBHOOK_QUEUE_PREFIX });
    const before = hooks.accepted().length;
    const body = JSON.stringify({ type: 'flow.failed', timestamp: new Date().toISOString(), data: {} });
    try {
      await queue.add('flow.failed', { eventId: 'msg_forged', type: 'flow.failed', occurredAt: Date.now(), body, url: hooks.url, traceparent: 'zz-not-a-trace', tracestate: '=,='.repeat(500) }, { jobId: `forged-${randomHex(4)}` });
      await vi.waitFor(() => expect(hooks.accepted().length).toBe(before + 1), { timeout: 15_000, interval: 50 });
      await vi.waitFor(() => expect(otlp.spans.some((s) => s.name === 'webhook POST' && s.attributes['webhook.event'] === 'flow.failed' && s.parentSpanId === '')).toBe(true), { timeout: 15_000, interval: 50 });
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('nothing exported holds the payload, the secret, the path, the event id, a flow id, a token or the number', async () => {
    await gw.shutdown(2_000);
    const exported = otlp.bodies.map((b) => b.toString('latin1'));
    expect(leaks(exported, secrets)).toEqual([]);
    const text = JSON.stringify(otlp.spans);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(otlp.spans.filter((s) => s.name === 'webhook POST').length).toBeGreaterThanOrEqual(3);
  });
});
