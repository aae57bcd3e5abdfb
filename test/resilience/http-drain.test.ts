import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startSharedProve, type SharedProve } from '../live/support.js';

/**
 * What a shutdown waits for is decided by the response, not by what the client said it accepts:
 * a mutation sent with `Accept: text/event-stream` is a request in flight like any other until its
 * answer has gone out, and is never cut mid-call to Prove; a subscription streamed as server-sent
 * events is still cut at once (its client reconnects elsewhere).
 */

const START = `mutation($input: StartUnifyInput!) { startUnify(input: $input) {
  __typename ... on StartUnifyPayload { flow { id state } } ... on Error { code message } } }`;
const WATCH = `subscription($id: ID!) { unifyStatus(flowId: $id) { __typename ... on UnifyStatusPayload { flow { state } } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let prove: SharedProve | undefined;
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  await prove?.close();
  gw = prove = undefined;
});

async function post(url: string, query: string, variables: unknown, accept: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

describe('shutdown: in flight or streaming, by the response', () => {
  it('a mutation sent with Accept: text/event-stream finishes its Prove call and gets its answer; an SSE subscription is cut', async () => {
    // Prove outside the gateway, so the only thing in flight at the gateway is the mutation itself.
    prove = await startSharedProve();
    gw = await startGateway(prove.env);
    const input = { possessionType: 'MOBILE', phoneNumber: '2001004014' };

    const first = await post(gw.graphqlUrl, START, { input }, 'application/json');
    const flowId = JSON.parse(first.text).data.startUnify.flow.id as string;
    // An SSE subscription, open.
    const stream = new AbortController();
    const sse = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: WATCH, variables: { id: flowId } }),
      signal: stream.signal,
    });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sseBody = sse.text().then(
      (text) => ({ ended: true, text }),
      (error: Error) => ({ ended: true, text: String(error) }),
    );

    // The mutation, held at Prove for 1.5 s.
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 1_500, count: 1 });
    await prove.sim.resetStats();
    const mutation = post(gw.graphqlUrl, START, { input }, 'text/event-stream');
    const deadline = Date.now() + 5_000;
    while (((await prove.sim.stats()).calls['/v3/unify'] ?? 0) < 1) {
      if (Date.now() > deadline) throw new Error('the mutation did not reach Prove');
      await sleep(10);
    }

    const report = await gw.shutdown(10_000);
    gw = undefined;
    const answer = await mutation;
    expect(answer.status).toBe(200);
    // Answered as an event stream of one result, which ended by itself.
    expect(answer.contentType).toMatch(/^text\/event-stream/);
    expect(answer.text).toContain('"__typename":"StartUnifyPayload"');
    expect(report).toMatchObject({ drained: true, cut: 0 });
    // It waited for the mutation (Prove's 1.5 s), not for the event stream (which would have held
    // it to the 10 s budget and been cut).
    expect(report.ms).toBeGreaterThan(1_000);
    expect(report.ms).toBeLessThan(8_000);
    expect((await sseBody).ended).toBe(true);
    stream.abort();
  });
});
