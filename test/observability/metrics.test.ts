import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { WatchStatusDocument } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { bind, started, status, trusted, verifiedMobile } from '../support/flows.js';

/**
 * /metrics in Prometheus's text format: yoga's own GraphQL/HTTP metrics, flows started and their
 * outcomes by possession type, Prove latency per endpoint and outcome, open subscriptions and
 * WebSocket connections, and the process's metrics. Each gateway counts only its own traffic.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(gw: TestGateway) {
  const res = await fetch(`${gw.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

/** The value of the one sample with this name whose labels include `labels` (0 when absent). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('/metrics', () => {
  let gw: TestGateway;
  let other: TestGateway;
  beforeAll(async () => {
    [gw, other] = await Promise.all([startGateway(), startGateway()]);
  });
  afterAll(async () => {
    await Promise.all([gw?.close(), other?.close()]);
  });

  it('counts flows by possession type and outcome, and times Prove per endpoint', async () => {
    await verifiedMobile(gw, '2001004014');

    // A 9101: the key of 2001004014 presented on a 2001004015 flow.
    const key = (await verifiedMobile(gw, '2001004014')).deviceId!;
    const mismatch = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015' });
    await gw.sim.authenticate({ authToken: mismatch.authToken, deviceId: key });
    expect((await status(gw, mismatch.flow.id)).__typename).toBe('ProveKeyMismatchError');

    // NONE: possession required, then bound.
    const none = await started(gw, { possessionType: 'NONE', phoneNumber: '2001004015' });
    await gw.sim.authenticate({ authToken: none.authToken });
    const required = await status(gw, none.flow.id);
    expect(required.__typename === 'UnifyStatusPayload' && required.flow.state).toBe('POSSESSION_REQUIRED');
    expect((await bind(gw, none.flow.id, '2001004015', trusted)).__typename).toBe('BindPhonePayload');

    // An upstream outage is timed too, under its kind.
    const outage = await started(gw, { possessionType: 'DESKTOP', phoneNumber: '2001004014', finalTargetUrl: 'https://example.com/done' });
    await gw.sim.fault({ endpoint: '/v3/unify-status', count: 10, status: 503 });
    expect((await status(gw, outage.flow.id)).__typename).toBe('UpstreamError');
    await gw.sim.clearFaults();

    const m = await scrape(gw);
    expect(value(m, 'unify_flows_started_total', { possession_type: 'MOBILE' })).toBe(3);
    expect(value(m, 'unify_flows_started_total', { possession_type: 'NONE' })).toBe(1);
    expect(value(m, 'unify_flows_started_total', { possession_type: 'DESKTOP' })).toBe(1);
    expect(value(m, 'unify_flow_outcomes_total', { possession_type: 'MOBILE', outcome: 'verified' })).toBe(2);
    expect(value(m, 'unify_flow_outcomes_total', { possession_type: 'MOBILE', outcome: 'failed', reason: '9101' })).toBe(1);
    expect(value(m, 'unify_flow_outcomes_total', { possession_type: 'NONE', outcome: 'possession_required' })).toBe(1);
    expect(value(m, 'unify_flow_outcomes_total', { possession_type: 'NONE', outcome: 'bound' })).toBe(1);
    expect(value(m, 'unify_flow_outcomes_total', { possession_type: 'DESKTOP' })).toBe(0);

    const count = (endpoint: string, outcome: string) =>
      value(m, 'unify_prove_request_duration_seconds_count', { endpoint, outcome });
    expect(count('/v3/unify', 'ok')).toBe(5);
    expect(count('/v3/unify-status', 'ok')).toBe(4);
    expect(count('/v3/unify-bind', 'ok')).toBe(1);
    expect(count('/v3/unify-status', 'unavailable')).toBe(1);
    expect(value(m, 'unify_prove_request_duration_seconds_sum', { endpoint: '/v3/unify', outcome: 'ok' })).toBeGreaterThan(0);
    expect(value(m, 'unify_prove_request_duration_seconds_bucket', { endpoint: '/v3/unify', outcome: 'ok', le: '+Inf' })).toBe(5);
    // /token: the real OAuth exchanges only (one token served all 11 calls), not a near-zero sample per call.
    expect(count('/token', 'ok')).toBe(1);
    expect(value(m, 'unify_prove_request_duration_seconds_sum', { endpoint: '/token', outcome: 'ok' })).toBeGreaterThan(0);

    // Prove revokes the token: the next call exchanges a new one, and that exchange is timed.
    await fetch(`${gw.emulatorUrl}/sim/revoke-tokens`, { method: 'POST' });
    await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const after = await scrape(gw);
    expect(value(after, 'unify_prove_request_duration_seconds_count', { endpoint: '/token', outcome: 'ok' })).toBe(2);
    expect(value(after, 'unify_prove_request_duration_seconds_count', { endpoint: '/v3/unify', outcome: 'ok' })).toBe(6);

    // The other gateway in this process saw none of it.
    const quiet = await scrape(other);
    expect(value(quiet, 'unify_flows_started_total', { possession_type: 'MOBILE' })).toBe(0);
    expect(value(quiet, 'unify_prove_request_duration_seconds_count', { endpoint: '/v3/unify', outcome: 'ok' })).toBe(0);
  });

  it("carries yoga's GraphQL and HTTP metrics without caller-chosen labels, and the process's metrics", async () => {
    const name = `Probe${Math.random().toString(36).slice(2)}`;
    const res = await gw.raw({ query: `query ${name} { flow(id: "nope") { id } }`, operationName: name });
    expect(res.status).toBe(200);
    // yoga's HTTP layer times the requests it serves (a GET here); the JSON transport's plain POSTs are in graphql_envelop_* only.
    const get = await fetch(`${gw.graphqlUrl}?query=${encodeURIComponent(`query ${name} { __typename }`)}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(get.status).toBe(200);
    // Errors are counted by phase (a subscription's events are not: their unexpected errors are logged).
    expect((await gw.raw({ query: '{ noSuchField }' })).body.errors).toBeDefined();
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const m = parse(text);
    // Operations are counted by the duration histogram's _count; the plugin's separate counter of the same number is off.
    expect(m.some((s) => s.name === 'graphql_envelop_request')).toBe(false);
    expect(m.some((s) => s.name === 'graphql_yoga_http_duration_count' && s.labels.statusCode === '200')).toBe(true);
    // The phase histograms are off: request_duration times execution, and the others time cache hits.
    expect(m.some((s) => s.name.startsWith('graphql_envelop_phase_'))).toBe(false);
    // Request timings as an aggregatable histogram, not as a per-process Summary.
    expect(value(m, 'graphql_envelop_request_duration_count', { operationType: 'query' })).toBeGreaterThan(0);
    expect(m.some((s) => s.name.startsWith('graphql_envelop_request_time_summary'))).toBe(false);
    expect(value(m, 'graphql_envelop_error_result', { phase: 'validate' })).toBeGreaterThanOrEqual(1);
    // Operation names and URLs come from callers: as labels they would grow without bound.
    expect(text).not.toContain(name);
    expect(m.some((s) => 'operationName' in s.labels || 'url' in s.labels)).toBe(false);
    // Node's own, once per process.
    expect(m.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
    expect(m.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('gauges open subscriptions and WebSocket connections, over graphql-ws and SSE', async () => {
    const gauge = async () => {
      const m = await scrape(gw);
      return { subscriptions: value(m, 'unify_subscriptions_open'), sockets: value(m, 'unify_websocket_connections_open') };
    };
    expect(await gauge()).toEqual({ subscriptions: 0, sockets: 0 });

    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const client = createClient({ url: gw.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const states: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: print(WatchStatusDocument), variables: { flowId: flow.id } },
        {
          next: ({ data }) => {
            const result = (data as { unifyStatus: { __typename: string; flow?: { state: string } } }).unifyStatus;
            states.push(result.flow?.state ?? result.__typename);
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    // A second subscription over SSE, abandoned by its client before the flow ends.
    const sse = new AbortController();
    const stream = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: print(WatchStatusDocument), variables: { flowId: flow.id } }),
      signal: sse.signal,
    });
    expect(stream.status).toBe(200);

    await until(async () => (await gauge()).subscriptions === 2 && (await gauge()).sockets === 1, 'two open subscriptions on one socket');
    // Subscriptions are counted as they start, not timed: request_duration is queries' and mutations'.
    const begun = await scrape(gw);
    expect(value(begun, 'unify_subscriptions_started_total')).toBe(2);
    expect(value(begun, 'graphql_envelop_request_duration_count', { operationType: 'subscription' })).toBe(0);
    sse.abort();
    await until(async () => (await gauge()).subscriptions === 1, 'the SSE subscription to close');

    await gw.sim.authenticate({ authToken, otp: '1234' });
    await status(gw, flow.id);
    await done;
    expect(states).toEqual(['PENDING', 'VERIFIED']);
    await until(async () => (await gauge()).subscriptions === 0, 'the completed subscription to close');

    await client.dispose();
    await until(async () => (await gauge()).sockets === 0, 'the socket to close');
  });

  it('a subscription over a plain JSON POST, abandoned by its client, closes while its flow is quiet', async () => {
    const open = async () => value(await scrape(gw), 'unify_subscriptions_open');
    expect(await open()).toBe(0);
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    // No Origin, JSON, Accept */*: the thin transport (src/transport/http-json.ts) streams it.
    const client = new AbortController();
    const stream = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: '*/*' },
      body: JSON.stringify({ query: print(WatchStatusDocument), variables: { flowId: flow.id } }),
      signal: client.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await stream.body!.getReader().read();
    await until(async () => (await open()) === 1, 'the subscription to open');
    // Nothing happens to the flow from here on (it expires in minutes): the client going away is
    // what must end the watch (the response's body cancelled, the request's signal aborted).
    client.abort();
    await until(async () => (await open()) === 0, 'the abandoned subscription to close');
  });
});
