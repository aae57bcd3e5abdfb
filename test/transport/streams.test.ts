import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { getIntrospectionQuery, print } from 'graphql';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/app/gateway.js';
import { createStore, type Store } from '../../src/store/redis-store.js';
import { flowKey } from '../../src/store/flow-repository.js';
import { createFlowEvents } from '../../src/events/flow-events.js';
import { FlowDocument, StartUnifyDocument, UnifyStatusDocument, WatchStatusDocument } from '../generated/graphql.js';
import { captureLogs, startUpstream, type Upstream } from '../security/support.js';
import { SEND_LIMITS_OFF, TEST_API_KEY } from '../support/gateway.js';

/**
 * graphql-ws and SSE answer what yoga's own HTTP path answers for the same operation. Two
 * production gateways share one store, pub/sub and Prove emulator; each operation is sent over a
 * raw graphql-transport-ws socket and as an SSE request to the first, and as a plain POST to
 * `yoga` (no JSON transport: yoga's HTTP layer end to end). The GraphQL result must be the same:
 * a `next` payload (graphql-ws) or `next` event (SSE) equals yoga's body; an operation refused
 * before it ran is an `error` message whose errors equal yoga's (graphql-ws has no HTTP status).
 */

let upstream: Upstream;
let gateway: Gateway;
let yoga: Gateway;
let store: Store;
const logs = captureLogs('error');
const trusted = { authorization: `Bearer ${TEST_API_KEY}` };

beforeAll(async () => {
  upstream = await startUpstream({ rateLimitPerSecond: 0 });
  const env = {
    NODE_ENV: 'production', PORT: '0', GATEWAY_API_KEYS: TEST_API_KEY, PROVE_RATE_LIMIT: '10000',
    ...SEND_LIMITS_OFF, ...upstream.env,
  };
  store = createStore(undefined);
  const events = createFlowEvents();
  gateway = await createGateway(loadConfig(env), { logger: logs.logger, store, events });
  yoga = await createGateway(loadConfig(env), { logger: pino({ level: 'silent' }), store, events, httpJson: false });
});

afterAll(async () => {
  await gateway?.close();
  await yoga?.close();
  await upstream?.close();
});

interface Operation {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** yoga's answer to the operation as a plain JSON POST: its status and parsed body. */
function viaYoga(op: Operation, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(op);
    const req = httpRequest(yoga.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

type Message = { type: string; id?: string; payload?: unknown };

/** The messages for one operation over a fresh graphql-transport-ws socket, up to its complete or error. */
async function viaWs(op: Operation, connectionParams: Record<string, unknown> = {}): Promise<Message[]> {
  const socket = new WebSocket(gateway.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: Message[] = [];
  try {
    return await new Promise<Message[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete or error within 15 s: ${JSON.stringify(messages)}`)), 15_000);
      socket.once('error', reject);
      socket.once('close', (code) => reject(new Error(`socket closed ${code}: ${JSON.stringify(messages)}`)));
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as Message;
        if (message.type === 'connection_ack') return void socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: op }));
        if (message.type === 'ping') return void socket.send('{"type":"pong"}');
        messages.push(message);
        if (message.type === 'complete' || message.type === 'error') {
          clearTimeout(timer);
          resolve(messages);
        }
      });
    });
  } finally {
    socket.removeAllListeners('close');
    socket.terminate();
  }
}

/** The `next` events of one operation sent as an SSE request to the gateway (yoga's SSE path), or the JSON body of a refusal. */
async function viaSse(op: Operation, headers: Record<string, string> = {}): Promise<{ status: number; events: unknown[]; body?: unknown }> {
  const res = await fetch(gateway.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify(op),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { status: res.status, events: [], body: JSON.parse(text) };
  const events = text
    .split('\n\n')
    .filter((block) => block.startsWith('event: next'))
    .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)));
  return { status: res.status, events };
}

/** graphql-ws's answer in yoga's terms: the one `next` payload, or the refusal's errors as `{ errors }`. */
function asResult(messages: Message[]): unknown {
  const last = messages.at(-1)!;
  if (last.type === 'error') return { errors: last.payload };
  const nexts = messages.filter((m) => m.type === 'next');
  expect(nexts).toHaveLength(1);
  return nexts[0]!.payload;
}

/** yoga answers an SSE request with the status a POST gets, and the result as its one event (or as JSON, refused before it streamed). */
function sseResult(sse: { status: number; events: unknown[]; body?: unknown }, status: number): unknown {
  expect(sse.status).toBe(status);
  if (sse.body) return sse.body;
  expect(sse.events).toHaveLength(1);
  return sse.events[0];
}

async function startFlow(): Promise<string> {
  const { body } = await viaYoga({ query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } }, trusted);
  return (body as { data: { startUnify: { flow: { id: string } } } }).data.startUnify.flow.id;
}

describe('graphql-ws and SSE answer as yoga does', () => {
  it('queries, public and trusted', async () => {
    const id = await startFlow();
    for (const op of [
      { query: print(FlowDocument), variables: { id } },
      { query: print(FlowDocument), variables: { id: 'no-such-flow' } },
      { query: print(UnifyStatusDocument), variables: { flowId: 'no-such-flow' } },
    ]) {
      for (const [params, headers] of [[{}, {}], [trusted, trusted]] as const) {
        const http = await viaYoga(op, headers);
        expect(http.status).toBe(200);
        expect(asResult(await viaWs(op, params))).toEqual(http.body);
        expect((await viaSse(op, headers)).events).toEqual([http.body]);
      }
    }
  });

  const hostile: [string, Operation][] = [
    ['a syntax error', { query: '{ flow(id: "x") { id ' }],
    ['an unknown field (no suggestion in production)', { query: '{ flow(id: "x") { idd } }' }],
    ['introspection in production', { query: getIntrospectionQuery() }],
    ['too deep', { query: `{ flow(id: "x") { id ${'... on UnifyFlow { '.repeat(20)}id${' }'.repeat(20)} } }` }],
    ['too many aliases', { query: `{ ${Array.from({ length: 12 }, (_, i) => `a${i}: flow(id: "x") { id }`).join(' ')} }` }],
    ['too many tokens', { query: `{ flow(id: "x") { ${'id '.repeat(1200)} } }` }],
    ['a missing variable', { query: print(FlowDocument), variables: {} }],
    ['a variable of the wrong type', { query: print(FlowDocument), variables: { id: { a: 1 } } }],
    ['an enum value misspelt (no suggestion)', { query: 'query($t: PossessionType!) { __typename }', variables: { t: 'MOBIL' } }],
    ['variables nested too deep', { query: print(FlowDocument), variables: { id: 'x', deep: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) } }],
    ['a typed refusal of a mutation', { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '12' } } }],
    ['an unknown flow in the subscription', { query: print(WatchStatusDocument), variables: { flowId: 'no-such-flow' } }],
  ];
  for (const [name, op] of hostile) {
    it(name, async () => {
      const ws = await viaWs(op);
      // A subscription's typed error is its one event (a POST of it would stream: compared over SSE).
      if (name.includes('subscription')) {
        expect(asResult(ws)).toEqual({ data: { unifyStatus: { __typename: 'FlowNotFoundError', code: 'FLOW_NOT_FOUND', message: expect.any(String) } } });
        expect((await viaSse(op)).events).toEqual([asResult(ws)]);
        return;
      }
      const http = await viaYoga(op);
      expect(http.status).toBeLessThan(500);
      expect(asResult(ws)).toEqual(http.body);
      expect(sseResult(await viaSse(op), http.status)).toEqual(http.body);
    });
  }

  it('a bad API key: 4403 at connect over graphql-ws, 401 over HTTP and SSE', async () => {
    const op = { query: print(FlowDocument), variables: { id: 'x' } };
    const http = await viaYoga(op, { authorization: 'Bearer wrong' });
    expect(http.status).toBe(401);
    await expect(viaWs(op, { authorization: 'Bearer wrong' })).rejects.toThrow(/socket closed 4403/);
    expect(sseResult(await viaSse(op, { authorization: 'Bearer wrong' }), 401)).toEqual(http.body);
  });

  it('an unexpected error in a resolver is masked the same way on every transport, and logged', async () => {
    const id = await startFlow();
    const key = `flow:${flowKey(id)}`;
    const record = await store.keyv.get<Record<string, unknown>>(key);
    // A stored record the resolvers cannot read: failureReasons throws a TypeError.
    await store.keyv.set(key, { ...record, evaluation: 'corrupt' }, 60_000);
    const op = { query: print(FlowDocument), variables: { id } };
    const http = await viaYoga(op);
    expect(JSON.stringify(http.body)).toContain('Unexpected error.');
    expect(asResult(await viaWs(op))).toEqual(http.body);
    expect((await viaSse(op)).events).toEqual([http.body]);
    expect(JSON.stringify(http.body)).not.toMatch(/flatMap|TypeError/);
    expect(logs.lines.some((line) => line.includes('unexpected error'))).toBe(true);
  });
});
