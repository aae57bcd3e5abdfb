import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { reap, spawnGateway, type ChildGateway } from '../resilience/support.js';
import { captureLogs, wsCloseAfter, wsUrl } from './support.js';

/**
 * Client-supplied JSON beside a document (variables, extensions, connectionParams) is measured
 * before anything walks it: too deep or too large is a 400 with a message (a graphql-ws error or
 * close 4400), never a stack overflow, a 500 or an error-level log line.
 */

const TYPENAME = '{ __typename }';

/** `[[[...]]]` nested `depth` arrays deep, as text (JSON.stringify itself would recurse that deep). */
const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepBody = (field: 'variables' | 'extensions', depth: number) =>
  `{"query":${JSON.stringify(TYPENAME)},"${field}":{"a":${nestedArrays(depth)}}}`;

interface Message {
  id?: string;
  type: string;
  payload?: unknown;
}

/** A graphql-transport-ws socket past connection_ack that sends raw text (a client library would stringify the deep value itself). */
async function rawSocket(graphqlUrl: string) {
  const socket = new WebSocket(wsUrl(graphqlUrl), 'graphql-transport-ws');
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as Message);
    for (const wake of waiters) wake();
  });
  const next = (match: (m: Message) => boolean) =>
    new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`no such message in ${JSON.stringify(messages)}`))), 5_000);
      function check() {
        const found = messages.find(match);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      }
      waiters.add(check);
      check();
    });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  await next((m) => m.type === 'connection_ack');
  return { send: (text: string) => socket.send(text), next, close: () => socket.close() };
}

const postText = async (url: string, body: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, text: await res.text() };
};

describe('a gateway process under deeply nested input', () => {
  let child: ChildGateway | undefined;
  afterAll(() => reap(child));

  it('answers a known query with variables nested 10,000 and 30,000 deep 400 and stays up', async () => {
    child = await spawnGateway({});
    // A query first, then the attack: once, the second one stopped the process.
    const first = await postText(child.graphqlUrl, JSON.stringify({ query: TYPENAME }));
    expect(first.status).toBe(200);
    // 30,000 levels: about as deep as the 64 KiB body cap allows.
    for (const depth of [10_000, 30_000]) {
      const attack = await postText(child.graphqlUrl, deepBody('variables', depth));
      expect(attack.status).toBe(400);
      expect(JSON.parse(attack.text).errors[0].message).toMatch(/variables.*nested more than \d+ levels/);
    }
    const again = await postText(child.graphqlUrl, JSON.stringify({ query: TYPENAME }));
    expect(again.status).toBe(200);
    expect(JSON.parse(again.text)).toEqual({ data: { __typename: 'Query' } });
    expect(child.proc.exitCode).toBeNull();
    expect(child.output()).not.toMatch(/RangeError|Maximum call stack/);
  });
});

describe('bounds on client JSON, every transport', () => {
  const logs = captureLogs('info');
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({}, { logger: logs.logger });
  });
  afterAll(() => gw.close());

  const errorLines = () => logs.lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

  it.each([
    ['variables', 10_000],
    ['variables', 20],
    ['extensions', 10_000],
  ] as const)('POST with %s nested %i deep: 400 with a message', async (field, depth) => {
    // Twice: the second one meets the parse cache warm.
    for (let i = 0; i < 2; i++) {
      const res = await postText(gw.graphqlUrl, deepBody(field, depth));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).errors[0].message).toContain(`"${field}" is nested more than`);
    }
  });

  it('POST with variables holding too many values: 400', async () => {
    const many = Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`v${i}`, i]));
    const res = await postText(gw.graphqlUrl, JSON.stringify({ query: TYPENAME, variables: many }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).errors[0].message).toMatch(/"variables" holds more than \d+ values/);
  });

  it('variables of a real depth still work', async () => {
    const res = await postText(gw.graphqlUrl, JSON.stringify({ query: TYPENAME, variables: { input: { a: [1, { b: [2] }] } } }));
    expect(res.status).toBe(200);
  });

  it.each([
    ['variables=%7B', 'variables=%7B', /variables/i],
    ['extensions=%7B', 'extensions=%7B', /extensions/i],
    ['variables=%5B1%5D', 'variables=%5B1%5D', /variables/i],
    ['variables 1,000 deep', `variables=${encodeURIComponent(`{"a":${nestedArrays(1_000)}}`)}`, /nested more than/],
  ])('GET with %s: 400 with a message', async (_name, query, words) => {
    const res = await fetch(`${gw.graphqlUrl}?query=${encodeURIComponent(TYPENAME)}&${query}`, {
      headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toMatch(words);
    expect(body.errors[0]!.message).not.toBe('Unexpected error.');
  });

  it('SSE with deep variables: 400 with a message', async () => {
    const res = await postText(gw.graphqlUrl, deepBody('variables', 10_000), { accept: 'text/event-stream' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('nested more than');
  });

  it.each(['variables', 'extensions'])('graphql-ws: a subscribe with deep %s gets an error, and the socket serves on', async (field) => {
    const socket = await rawSocket(gw.graphqlUrl);
    try {
      socket.send(`{"id":"1","type":"subscribe","payload":{"query":"{ __typename }","${field}":{"a":${nestedArrays(10_000)}}}}`);
      const refused = await socket.next((m) => m.id === '1');
      expect(refused.type).toBe('error');
      expect((refused.payload as { message: string }[])[0]!.message).toContain(`"${field}" is nested more than`);
      socket.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: TYPENAME } }));
      const served = await socket.next((m) => m.id === '2');
      expect(served).toMatchObject({ type: 'next', payload: { data: { __typename: 'Query' } } });
    } finally {
      socket.close();
    }
  });

  it('graphql-ws: deep connectionParams close the socket with 4400 and a reason', async () => {
    const init = `{"type":"connection_init","payload":{"authorization":${nestedArrays(10_000)}}}`;
    const outcome = await wsCloseAfter(gw.graphqlUrl, [init], { init: false });
    expect(outcome.code).toBe(4400);
    expect(outcome.reason).toMatch(/connectionParams/);
  });

  it('none of it wrote an error-level log line, and the gateway still answers', async () => {
    const res = await postText(gw.graphqlUrl, JSON.stringify({ query: TYPENAME }));
    expect(res.status).toBe(200);
    expect(errorLines()).toEqual([]);
  });
});
