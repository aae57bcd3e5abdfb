import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startSharedProve, type SharedProve } from '../live/support.js';
import { getJson, post, reap, sleep, spawnGateway, type ChildGateway } from './support.js';

/**
 * SIGTERM on the real `src/main.ts` (a child process) while 200 requests are in flight, held
 * there by Prove answering slowly (the emulator's latencyMs fault on /v3/unify, 2 s). None is cut off:
 * each gets its whole answer; /ready answers 503 "draining" meanwhile and new work is refused
 * with a retryable 503; WebSockets close with 1001; the process exits 0 within SHUTDOWN_TIMEOUT.
 */

const START = `mutation($input: StartUnifyInput!) { startUnify(input: $input) {
  __typename ... on StartUnifyPayload { authToken flow { id state } } ... on Error { code message } } }`;
const WATCH = `subscription($id: ID!) { unifyStatus(flowId: $id) { __typename ... on UnifyStatusPayload { flow { state } } } }`;

let prove: SharedProve | undefined;
let child: ChildGateway | undefined;
afterEach(async () => {
  await reap(child);
  await prove?.close();
});

/** A raw graphql-transport-ws socket with one subscription: resolves with how it was closed. */
async function subscribedSocket(graphqlUrl: string, flowId: string) {
  const socket = new WebSocket(graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: Array<{ type: string }> = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve) => socket.once('open', resolve));
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  const until = async (type: string) => {
    const deadline = Date.now() + 5_000;
    while (!messages.some((m) => m.type === type) && Date.now() < deadline) await sleep(10);
  };
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await until('connection_ack');
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: WATCH, variables: { id: flowId } } }));
  await until('next');
  return { socket, messages, closed };
}

describe('SIGTERM: graceful shutdown of src/main.ts', () => {
  it('200 requests in flight all complete; /ready says draining; WebSockets close 1001; exit 0 within the drain timeout', async () => {
    prove = await startSharedProve();
    child = await spawnGateway({ ...prove.env, SHUTDOWN_TIMEOUT: '20s', PROVE_TIMEOUT: '15s' });
    const input = { possessionType: 'MOBILE', phoneNumber: '2001004014' };

    const first = await post(child.graphqlUrl, START, { input });
    expect(first.body.data.startUnify.__typename).toBe('StartUnifyPayload');
    const ws = await subscribedSocket(child.graphqlUrl, first.body.data.startUnify.flow.id);
    expect(ws.messages.filter((m) => m.type === 'next')).toHaveLength(1);
    expect((await getJson(`${child.url}/ready`)).body.status).toBe('ready');

    // 200 starts over HTTP held in flight (Prove takes 8 s to answer each: long enough that none is
    // answered before all have arrived, even on a busy machine), and one more over the WebSocket.
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 8_000, count: 201 });
    await prove.sim.resetStats();
    const inFlight = Array.from({ length: 200 }, () => post(child!.graphqlUrl, START, { input }));
    ws.socket.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: START, variables: { input } } }));
    const deadline = Date.now() + 15_000;
    while (((await prove.sim.stats()).calls['/v3/unify'] ?? 0) < 201) {
      if (Date.now() > deadline) throw new Error('the 201 requests did not all reach Prove within 15 s');
      await sleep(10);
    }

    const atSignal = (await prove.sim.stats()) as unknown as { responses: Record<string, Record<string, number>> };
    const signalledAt = Date.now();
    child.proc.kill('SIGTERM');
    // All 201 were waiting on Prove when the signal came.
    expect(atSignal.responses['/v3/unify']?.['200'] ?? 0).toBe(0);
    // Wait until the instance says it is draining (it has taken the signal), bounded.
    let ready = await getJson(`${child.url}/ready`);
    for (const until = Date.now() + 10_000; ready.status === 200 && Date.now() < until; ) ready = await getJson(`${child.url}/ready`);
    expect(ready.status).toBe(503);
    // An operation sent on the socket after SIGTERM is not run (nor answered): the client sends it again after reconnecting.
    ws.socket.send(JSON.stringify({ id: '3', type: 'subscribe', payload: { query: START, variables: { input } } }));

    // Meanwhile: not ready (draining), alive, new work refused before anything runs, no new sockets.
    expect(ready.body).toMatchObject({ status: 'draining', checks: { draining: true } });
    expect(ready.body.problems).toContain('draining: this instance is shutting down');
    expect((await getJson(`${child.url}/health`)).status).toBe(200);
    const late = await post(child.graphqlUrl, START, { input });
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('1');
    expect(late.body.errors[0].extensions.code).toBe('SHUTTING_DOWN');
    const refusedUpgrade = await new Promise<number>((resolve) => {
      const socket = new WebSocket(child!.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('error', () => resolve(-1));
    });
    expect(refusedUpgrade).toBe(503);

    // The WebSocket was closed with Going Away, so its client reconnects (elsewhere), after the
    // mutation under way on it sent its result and completed.
    expect(await ws.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    const onSocket = ws.messages as Array<{ id?: string; type: string; payload?: any }>;
    expect(onSocket.filter((m) => m.id === '2').map((m) => m.type)).toEqual(['next', 'complete']);
    expect(onSocket.find((m) => m.id === '2' && m.type === 'next')?.payload.data.startUnify.__typename).toBe('StartUnifyPayload');
    expect(onSocket.filter((m) => m.id === '3')).toEqual([]);

    // Every request in flight got its whole answer.
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    expect(answers.map((a) => a.body.data?.startUnify?.__typename)).toEqual(Array(200).fill('StartUnifyPayload'));
    // And Prove saw exactly those 201 starts (the late ones never reached it).
    expect((await prove.sim.stats()).calls['/v3/unify']).toBe(201);

    const exit = await child.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(20_000);
    expect(child.output()).toMatch(/drained and closed/);
    console.log(`SIGTERM with 201 requests in flight: exit 0 after ${exit.at - signalledAt} ms (drain timeout 20 s)`);
  }, 60_000);

  it('requests that outlast SHUTDOWN_TIMEOUT are cut at the deadline, and the exit code says so (1)', async () => {
    prove = await startSharedProve();
    child = await spawnGateway({ ...prove.env, SHUTDOWN_TIMEOUT: '500ms' });
    await prove.sim.fault({ endpoint: '/v3/unify', latencyMs: 10_000, count: 5 });
    const inFlight = Array.from({ length: 5 }, () =>
      post(child!.graphqlUrl, START, { input: { possessionType: 'MOBILE', phoneNumber: '2001004014' } }).catch((error: Error) => error),
    );
    while (((await prove.sim.stats()).calls['/v3/unify'] ?? 0) < 5) await sleep(10);
    const signalledAt = Date.now();
    child.proc.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    // Cut at the 500 ms deadline, long before Prove's 10 s answers (room for a busy machine).
    expect(exit.at - signalledAt).toBeLessThan(5_000);
    expect((await Promise.all(inFlight)).every((r) => r instanceof Error)).toBe(true);
    expect(child.output()).toMatch(/drain timeout: requests still in flight were cut/);
  });
});

describe('SHUTDOWN_TIMEOUT', () => {
  it('defaults to 25 s, takes a duration, and refuses anything else naming the variable', () => {
    expect(loadConfig({}).shutdownTimeoutMs).toBe(25_000);
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '5s' }).shutdownTimeoutMs).toBe(5_000);
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '1500ms' }).shutdownTimeoutMs).toBe(1_500);
    for (const bad of ['soon', '-1s', '11m']) {
      expect(() => loadConfig({ SHUTDOWN_TIMEOUT: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ SHUTDOWN_TIMEOUT: bad })).toThrow(/SHUTDOWN_TIMEOUT: must be a duration/);
    }
  });
});
