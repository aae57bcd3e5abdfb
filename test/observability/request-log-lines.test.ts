import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../src/store/redis-store.js';
import { flowKey } from '../../src/store/flow-repository.js';
import { FlowDocument, StartUnifyDocument, UnifyStatusDocument } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { captureLogs } from '../security/support.js';

/**
 * The lines a request makes deeper down (the flow service, the Prove client's exchanges, the
 * masking of an unexpected error) carry that request's id, over HTTP and over graphql-ws, and
 * requests running at the same time never lend each other theirs. One gateway with its embedded
 * emulator, its real logger at debug level (the Prove exchanges are debug lines) writing to memory.
 */

let gw: TestGateway;
let store: Store;
const { logger, lines } = captureLogs('debug');
type Line = Record<string, unknown>;
const parsed = (): Line[] => lines.map((line) => JSON.parse(line) as Line);
/** What a request wrote, in order: the message and what tells the lines apart. */
const linesOf = (requestId: string) =>
  parsed()
    .filter((l) => l.requestId === requestId)
    .map((l) => [l.msg, l.endpoint ?? l.state ?? l.possessionType ?? (l.err as Line | undefined)?.name]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

beforeAll(async () => {
  store = createStore(undefined);
  gw = await startGateway({}, { logger, store });
});
afterAll(() => gw.close());

async function post(body: unknown, requestId: string): Promise<any> {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify(body),
  });
  expect(res.headers.get('x-request-id')).toBe(requestId);
  return res.json();
}

const startBody = (phoneNumber: string) => ({ query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber } } });
const statusBody = (flowId: string) => ({ query: print(UnifyStatusDocument), variables: { flowId } });

function wsClient(requestId?: string): Client {
  return createClient({
    url: gw.graphqlUrl.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: requestId === undefined ? {} : { 'x-request-id': requestId },
    retryAttempts: 0,
  });
}

const overWs = (client: Client, body: { query: string; variables: Record<string, unknown> }): Promise<any> =>
  new Promise((resolve, reject) => {
    let result: unknown;
    client.subscribe(body, { next: (value) => (result = value), error: reject, complete: () => resolve(result) });
  });

/** The flow reference (the `flow` field) the request's 'flow started' or 'flow changed' line names. */
const flowOf = (requestId: string, msg: string) => parsed().find((l) => l.requestId === requestId && l.msg === msg)?.flow;

describe('the lines of a request carry its id, wherever they are written', () => {
  it('HTTP: two starts and two status calls at once, each with its own lines', async () => {
    const [a, b] = await Promise.all([post(startBody('2001004014'), 'start-a'), post(startBody('2001004015'), 'start-b')]);
    await Promise.all([post(statusBody(a.data.startUnify.flow.id), 'status-a'), post(statusBody(b.data.startUnify.flow.id), 'status-b')]);

    for (const id of ['start-a', 'start-b']) {
      expect(linesOf(id)).toEqual([
        ['prove exchange', '/v3/unify'],
        ['flow started', 'MOBILE'],
      ]);
    }
    for (const id of ['status-a', 'status-b']) {
      expect(linesOf(id)).toEqual([
        ['prove exchange', '/v3/unify-status'],
        ['flow changed', 'FAILED'],
      ]);
    }
    const started = (id: string) => parsed().find((l) => l.requestId === id && l.msg === 'flow started')!;
    expect(started('start-a').phone).toMatch(/14$/);
    expect(started('start-b').phone).toMatch(/15$/);
    // Each status request wrote about its own flow.
    expect(flowOf('status-a', 'flow changed')).toBe(flowOf('start-a', 'flow started'));
    expect(flowOf('status-b', 'flow changed')).toBe(flowOf('start-b', 'flow started'));
    expect(flowOf('start-a', 'flow started')).not.toBe(flowOf('start-b', 'flow started'));
    // The Prove token is the process's, shared by every request: its lines carry no request id.
    const token = parsed().filter((l) => l.endpoint === '/token' || l.msg === 'prove token obtained');
    expect(token.length).toBeGreaterThan(0);
    expect(token.filter((l) => 'requestId' in l)).toEqual([]);
  });

  it("graphql-ws: each operation's lines carry connectionParams' x-request-id, or an id of its own", async () => {
    const [clientA, clientB, anonymous] = [wsClient('ws-a'), wsClient('ws-b'), wsClient('has space')];
    try {
      const [a, b] = await Promise.all([overWs(clientA, startBody('2001004014')), overWs(clientB, startBody('2001004015'))]);
      await Promise.all([overWs(clientA, statusBody(a.data.startUnify.flow.id)), overWs(clientB, statusBody(b.data.startUnify.flow.id))]);
      for (const id of ['ws-a', 'ws-b']) {
        expect(linesOf(id)).toEqual([
          ['prove exchange', '/v3/unify'],
          ['flow started', 'MOBILE'],
          ['prove exchange', '/v3/unify-status'],
          ['flow changed', 'FAILED'],
        ]);
      }
      expect(flowOf('ws-a', 'flow changed')).toBe(flowOf('ws-a', 'flow started'));
      expect(flowOf('ws-b', 'flow changed')).toBe(flowOf('ws-b', 'flow started'));
      expect(flowOf('ws-a', 'flow started')).not.toBe(flowOf('ws-b', 'flow started'));

      // A malformed id is not copied: each operation of that connection gets a new one.
      const before = parsed().length;
      await overWs(anonymous, startBody('2001004016'));
      await overWs(anonymous, startBody('2001004016'));
      const made = parsed().slice(before).filter((l) => l.msg === 'flow started').map((l) => l.requestId);
      expect(made).toHaveLength(2);
      expect(made.every((id) => typeof id === 'string' && UUID.test(id))).toBe(true);
      expect(new Set(made).size).toBe(2);
      expect(lines.some((l) => l.includes('has space'))).toBe(false);
    } finally {
      await Promise.all([clientA.dispose(), clientB.dispose(), anonymous.dispose()]);
    }
  });

  it('an unexpected error is logged with the id of the request it happened in, over HTTP and graphql-ws', async () => {
    const id = (await post(startBody('2001004014'), 'before-corrupt')).data.startUnify.flow.id as string;
    const key = `flow:${flowKey(id)}`;
    const record = await store.keyv.get<Record<string, unknown>>(key);
    // A stored record the resolvers cannot read: failureReasons throws a TypeError.
    await store.keyv.set(key, { ...record, evaluation: 'corrupt' }, 60_000);
    const query = { query: print(FlowDocument), variables: { id } };
    const http = await post(query, 'corrupt-http');
    expect(http.errors[0].message).toBe('Unexpected error.');
    const client = wsClient('corrupt-ws');
    try {
      expect((await overWs(client, query)).errors[0].message).toBe('Unexpected error.');
    } finally {
      await client.dispose();
    }
    expect(linesOf('corrupt-http')).toEqual([['unexpected error', 'TypeError']]);
    expect(linesOf('corrupt-ws')).toEqual([['unexpected error', 'TypeError']]);
    expect(parsed().filter((l) => l.msg === 'unexpected error' && l.requestId === undefined)).toEqual([]);
  });
});
