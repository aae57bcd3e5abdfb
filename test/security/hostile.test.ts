import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { FlowDocument, StartUnifyDocument } from '../generated/graphql.js';
import {
  BIND, FLOW, START, STATUS, WATCH, idCases, identifierCases, otherCallerCases, phoneCases, queryCases, smsCases, structuralCases, urlCases,
  type Case, type Victim,
} from './hostile-cases.js';
import { captureLogs, leaks, startUpstream, wsClient, wsCloseAfter, wsHandshake, wsRun, type Upstream, type WsOutcome, postChunked } from './support.js';

/**
 * The hostile-input suite: several hundred generated attacks on a production gateway, each sent
 * over HTTP and over graphql-ws. Every one must end in a typed error, a GraphQL error or a 4xx
 * with a message — never a 5xx, a masked internal error, a dropped connection or a crash — and
 * none may reach Prove, touch another caller's flow or leave a secret in the logs.
 */

const APP = 'https://app.example.com';
const ATTACKER = '203.0.113.66';
const VICTIM_ADDRESS = '192.0.2.1';

interface Outcome {
  status?: number;
  data?: Record<string, unknown> | null;
  errors: string[];
  closed?: { code: number; reason: string };
}

const logs = captureLogs();
let upstream: Upstream;
let gw: TestGateway;
let publicWs: Client;
let trustedWs: Client;
const secrets = new Set<string>([TEST_API_KEY, 'emulator-secret']);
const victims: Record<string, Victim> = {};
let snapshot: Record<string, unknown> = {};
let upstreamCallsAfterSetup: Record<string, number> = {};
const problems: string[] = [];
let ran = 0;

const authorization = { authorization: `Bearer ${TEST_API_KEY}` };

async function overHttp(c: Pick<Case, 'query' | 'variables' | 'trusted'>): Promise<Outcome> {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      'x-forwarded-for': ATTACKER,
      ...(c.trusted ? authorization : {}),
    },
    body: JSON.stringify({ query: c.query, variables: c.variables }),
  });
  const text = await res.text();
  let body: { data?: Record<string, unknown> | null; errors?: { message: string }[] } = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: `(not JSON) ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, data: body.data, errors: (body.errors ?? []).map((e) => e.message) };
}

async function overWs(c: Pick<Case, 'query' | 'variables' | 'trusted'>): Promise<Outcome> {
  const outcome: WsOutcome = await wsRun(c.trusted ? trustedWs : publicWs, { query: c.query, variables: c.variables ?? null });
  const first = outcome.results[0];
  return {
    data: first?.data as Record<string, unknown> | undefined,
    errors: [...(outcome.errors ?? []), ...outcome.results.flatMap((r) => r.errors ?? [])].map((e) => e.message),
    ...(outcome.closed ? { closed: outcome.closed } : {}),
  };
}

/** What is wrong with this outcome, if anything. */
function judge(c: Case, o: Outcome): string | undefined {
  if (o.status !== undefined && o.status >= 500) return `HTTP ${o.status}`;
  if (o.closed) return `socket closed ${o.closed.code} ${o.closed.reason}`;
  if (o.errors.some((m) => m === 'Unexpected error.' || m.length === 0)) return `masked/empty error: ${o.errors.join(' | ')}`;
  const value = o.data?.[c.root] as { __typename?: string; field?: string; message?: string } | null | undefined;
  const expected = c.expect;
  if ('typed' in expected) {
    if (value?.__typename !== expected.typed) return `expected ${expected.typed}, got ${JSON.stringify(value ?? o.errors).slice(0, 300)}`;
    if (!value.message) return 'typed error without a message';
    if (expected.field && value.field !== expected.field) return `expected field ${expected.field}, got ${value.field}`;
    if (o.status !== undefined && o.status !== 200) return `typed error with HTTP ${o.status}`;
    return undefined;
  }
  if ('none' in expected) return value === null && o.errors.length === 0 ? undefined : `expected null, got ${JSON.stringify(o).slice(0, 300)}`;
  if (o.data && Object.values(o.data).some((v) => v !== null)) return `expected a refusal, got data ${JSON.stringify(o.data).slice(0, 200)}`;
  if (o.errors.length === 0) return `expected a refusal, got nothing (${JSON.stringify(o)})`;
  if (!o.errors.some((m) => expected.refused.test(m))) return `expected ${expected.refused}, got ${o.errors.join(' | ').slice(0, 300)}`;
  if (o.status !== undefined && o.status !== 200 && (o.status < 400 || o.status >= 500)) return `HTTP ${o.status}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------

async function createVictims() {
  const start = async (key: string, input: Record<string, unknown>, trusted: boolean) => {
    const headers = trusted ? authorization : { 'x-forwarded-for': VICTIM_ADDRESS };
    const { body } = await gw.raw<{ startUnify: { __typename: string; authToken: string; flow: { id: string } } }>({ query: START, variables: { input } }, headers);
    const result = body.data!.startUnify;
    expect(result.__typename, key).toBe('StartUnifyPayload');
    victims[key] = { id: result.flow.id, authToken: result.authToken, phoneNumber: String(input.phoneNumber), clientRequestId: String(input.clientRequestId ?? '') };
    secrets.add(result.flow.id).add(result.authToken);
    return victims[key]!;
  };
  const status = async (id: string) => (await gw.raw<{ unifyStatus: { __typename: string; flow?: { state: string } } }>({ query: STATUS, variables: { flowId: id } }, authorization)).body.data!.unifyStatus;

  await start('mobile', { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId: 'victim-mobile-1' }, true);
  await start('nonePending', { possessionType: 'NONE', phoneNumber: '2001004016', clientRequestId: 'victim-none-1' }, true);
  const required = await start('noneRequired', { possessionType: 'NONE', phoneNumber: '2001004015', clientRequestId: 'victim-none-2' }, true);
  await upstream.sim.authenticate({ authToken: required.authToken });
  expect((await status(required.id)).flow?.state).toBe('POSSESSION_REQUIRED');
  await start('desktop', { possessionType: 'DESKTOP', phoneNumber: '2001004017', finalTargetUrl: 'https://example.com/done', clientRequestId: 'victim-desktop-1' }, false);
  const verified = await start('verified', { possessionType: 'MOBILE', phoneNumber: '2001004018', clientRequestId: 'victim-verified-1' }, true);
  expect((await status(verified.id)).flow?.state).toBe('VERIFIED');
}

async function snapshotVictims(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(victims)) {
    out[key] = (await gw.gql(FlowDocument, { id: v.id }, { apiKey: TEST_API_KEY })).flow;
  }
  return out;
}

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(
    {
      NODE_ENV: 'production', CORS_ORIGINS: APP, ALLOWED_COUNTRIES: 'US', TRUSTED_PROXIES: 'loopback',
      START_LIMIT_PER_NUMBER: '3/10m', START_LIMIT_PER_ADDRESS: '20/1m', ...upstream.env,
    },
    { logger: logs.logger },
  );
  publicWs = wsClient(gw.graphqlUrl, { headers: { 'x-forwarded-for': ATTACKER } });
  trustedWs = wsClient(gw.graphqlUrl, { apiKey: TEST_API_KEY, headers: { 'x-forwarded-for': ATTACKER } });
  await createVictims();
  snapshot = await snapshotVictims();
  upstreamCallsAfterSetup = (await upstream.sim.stats()).calls;
  for (const phone of ['2001004014', '2001004015', '2001004016', '2001004017', '2001004018', '2001004041']) secrets.add(`+1${phone}`);
});

afterAll(async () => {
  await publicWs?.dispose();
  await trustedWs?.dispose();
  await gw?.close();
  await upstream?.close();
});

describe('hostile input over HTTP and graphql-ws', () => {
  const families: [string, () => Case[]][] = [
    ['phone numbers: malformed, premium-rate, foreign', phoneCases],
    ['smsMessage: oversized, control characters, unicode tricks', smsCases],
    ['finalTargetUrl: schemes, unicode tricks, oversized', urlCases],
    ['identifiers: oversized, spaces, unicode', identifierCases],
    ['variables: wrong types, huge, deep', structuralCases],
    ['documents: depth, aliases, tokens, directives, fragments, syntax, introspection, suggestions', queryCases],
    ['forged and guessed flow ids', () => idCases(victims, upstream.seen.correlationIds)],
    ["other callers' flows: public bindPhone, bind before possession, clientRequestId reuse", () => otherCallerCases(victims)],
  ];
  for (const [title, generate] of families) {
    it(title, async () => {
      const cases = generate();
      expect(cases.length).toBeGreaterThan(5);
      const found: string[] = [];
      for (const c of cases) {
        for (const [transport, run] of [['http', overHttp], ['ws', overWs]] as const) {
          const outcome = await run(c);
          ran += 1;
          const problem = judge(c, outcome);
          if (problem) found.push(`[${transport}] ${c.family} / ${c.name}: ${problem}`);
          // In production no refusal may carry a suggestion.
          if (outcome.errors.some((m) => m.includes('Did you mean'))) found.push(`[${transport}] ${c.name}: suggestion leaked`);
        }
      }
      problems.push(...found);
      expect(found).toEqual([]);
    });
  }

  it('subscriptions to forged flow ids end in FlowNotFoundError', async () => {
    const ids = [randomBytes(18).toString('base64url'), '', 'x'.repeat(5_000), ...[...upstream.seen.correlationIds].slice(0, 2), victims.mobile!.authToken];
    for (const flowId of ids) {
      const outcome = await wsRun(publicWs, { query: WATCH, variables: { flowId } });
      ran += 1;
      expect(outcome.closed).toBeUndefined();
      expect(outcome.results.map((r) => (r.data?.unifyStatus as { __typename: string }).__typename)).toEqual(['FlowNotFoundError']);
      expect(outcome.completed).toBe(true);
    }
  });
});

describe('hostile requests that only HTTP can carry', () => {
  const send = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}, method = 'POST') =>
    fetch(gw.graphqlUrl, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-forwarded-for': ATTACKER, ...headers },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    });

  async function expect4xx(name: string, res: Response, words: RegExp = /./) {
    ran += 1;
    const text = await res.text();
    const problem =
      res.status < 400 || res.status >= 500
        ? `HTTP ${res.status}: ${text.slice(0, 200)}`
        : !words.test(text)
          ? `HTTP ${res.status} without ${words}: ${text.slice(0, 200)}`
          : undefined;
    if (problem) problems.push(`[http] ${name}: ${problem}`);
    return problem;
  }

  it('invalid JSON, wrong shapes, content types, batches, methods, sizes, origins and credentials are 4xx with a message', async () => {
    const found: (string | undefined)[] = [];
    const q = JSON.stringify({ query: '{ __typename }' });
    for (const [name, body] of [
      ['truncated JSON', '{"query":'], ['open brace', '{'], ['null', 'null'], ['a string', '"query"'], ['a number', '123'], ['true', 'true'],
      ['query a number', '{"query":123}'], ['query null', '{"query":null}'], ['no query', '{"variables":{}}'],
      ['variables a string', '{"query":"{ __typename }","variables":"x"}'], ['variables a list', '{"query":"{ __typename }","variables":[1]}'],
      ['operationName a number', '{"query":"{ __typename }","operationName":5}'], ['extensions a string', '{"query":"{ __typename }","extensions":"x"}'],
      ['NUL', '\u0000'], ['BOM then JSON', `\ufeff${q}`], ['trailing garbage', `${q}}}}`], ['single quotes', "{'query':'{ __typename }'}"],
      ['deep JSON arrays', '['.repeat(30_000)], ['deep JSON objects', '{"a":'.repeat(10_000)], ['empty body', ''],
      ['duplicate keys', '{"query":"{ __typename }","query":"{ __schema { types { name } } }"}'],
    ] as const) {
      found.push(await expect4xx(name, await send(body), /message/));
    }
    found.push(await expect4xx('invalid UTF-8', await send(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), /message/));
    for (const [name, body] of [
      ['batch of two', JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }])],
      ['batch of 200', JSON.stringify(Array.from({ length: 200 }, () => ({ query: '{ __typename }' })))],
      ['batched starts', JSON.stringify(Array.from({ length: 5 }, () => ({ query: START, variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004041' } } })))],
      ['empty batch', '[]'],
    ] as const) {
      found.push(await expect4xx(name, await send(body), /Batching is not supported|message/));
    }
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain; charset=utf-8']) {
      found.push(await expect4xx(`content-type ${type}`, await send(q, { 'content-type': type }), /CSRF/));
    }
    for (const type of ['application/xml', 'image/png', 'application/json-patch+json']) {
      found.push(await expect4xx(`content-type ${type}`, await send(q, { 'content-type': type }), /message/));
    }
    for (const method of ['PUT', 'DELETE', 'PATCH']) found.push(await expect4xx(`method ${method}`, await send(q, {}, method), /message|not allowed|Method/i));
    const get = (query: string, headers: Record<string, string> = {}) =>
      fetch(`${gw.graphqlUrl}?query=${encodeURIComponent(query)}`, {
        headers: { accept: 'application/graphql-response+json', 'x-forwarded-for': ATTACKER, ...headers },
      });
    found.push(await expect4xx('GET without a CSRF header', await get('{ __typename }'), /CSRF/));
    found.push(await expect4xx('GET mutation', await get('mutation { startUnify(input: { possessionType: MOBILE, phoneNumber: "2001004041" }) { __typename } }', { 'x-graphql-yoga-csrf': '1' }), /mutation|GET|message/i));
    found.push(await expect4xx('GET introspection', await get('{ __schema { types { name } } }', { 'x-graphql-yoga-csrf': '1' }), /introspection/i));
    // Refused by Node's HTTP parser (431) before any of our code: a bare status line is all it sends.
    found.push(await expect4xx('GET with a 20 kB query string', await fetch(`${gw.graphqlUrl}?query=${'x'.repeat(20_000)}`, { headers: { 'x-graphql-yoga-csrf': '1' } }), /^$/));
    found.push(await expect4xx('body over 64 KiB', await send(JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(70_000) } })), /larger than/));
    found.push(await expect4xx('body of 1 MiB', await send('x'.repeat(1 << 20)), /larger than/));
    found.push(await expect4xx('foreign Origin', await send(q, { origin: 'https://evil.example' }), /origin/i));
    found.push(await expect4xx('Origin null', await send(q, { origin: 'null' }), /origin/i));
    found.push(await expect4xx('wrong API key', await send(q, { authorization: 'Bearer not-a-key-at-all-0000' }), /API key/));
    found.push(await expect4xx('Basic credentials', await send(q, { authorization: 'Basic dXNlcjpwYXNz' }), /API key/));
    found.push(await expect4xx('empty Bearer', await send(q, { authorization: 'Bearer ' }), /API key/));
    found.push(await expect4xx('8 kB Bearer', await send(q, { authorization: `Bearer ${'k'.repeat(8_000)}` }), /API key/));
    found.push(await expect4xx('Accept: application/xml', await send(q, { accept: 'application/xml' }), /accept/i));

    const chunked = await postChunked(gw.graphqlUrl, 40);
    ran += 1;
    if (chunked.status !== 413) found.push(`chunked body over 64 KiB: HTTP ${chunked.status}`);

    expect(found.filter(Boolean)).toEqual([]);
  });
});

describe('hostile frames that only a WebSocket can carry', () => {
  it('foreign origins are refused before the upgrade; bad frames close with a 44xx code and a reason', async () => {
    const found: string[] = [];
    for (const origin of ['https://evil.example', 'null', 'https://app.example.com.evil.example', 'http://app.example.com']) {
      const shake = await wsHandshake(gw.graphqlUrl, { origin });
      ran += 1;
      if (shake.opened || shake.status !== 403) found.push(`origin ${origin}: opened=${shake.opened} status=${shake.status}`);
      shake.socket?.terminate();
    }
    const closes: [string, (string | Buffer)[], { init?: boolean }, RegExp][] = [
      ['not JSON', ['{'], {}, /^44/],
      ['binary garbage', [Buffer.from([0xff, 0x00, 0xfe])], {}, /^44/],
      ['unknown message type', [JSON.stringify({ type: 'hack' })], {}, /^44/],
      ['subscribe without an id', [JSON.stringify({ type: 'subscribe', payload: { query: '{ __typename }' } })], {}, /^44/],
      ['subscribe without a query', [JSON.stringify({ id: '1', type: 'subscribe', payload: {} })], {}, /^44/],
      ['subscribe before connection_init', [JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } })], { init: false }, /^4401$/],
      ['connection_init twice', [JSON.stringify({ type: 'connection_init' })], {}, /^4429$/],
      ['duplicate subscription id', [
        JSON.stringify({ id: 'd', type: 'subscribe', payload: { query: WATCH, variables: { flowId: victims.mobile!.id } } }),
        JSON.stringify({ id: 'd', type: 'subscribe', payload: { query: WATCH, variables: { flowId: victims.mobile!.id } } }),
      ], {}, /^4409$/],
      ['message over 64 KiB', [JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(70_000) } } })], {}, /^1009$/],
    ];
    for (const [name, frames, options, code] of closes) {
      const closed = await wsCloseAfter(gw.graphqlUrl, frames, options);
      ran += 1;
      if (!code.test(String(closed.code)) || (closed.code !== 1009 && !closed.reason)) found.push(`${name}: closed ${closed.code} "${closed.reason}"`);
    }
    const refusedKey = await new Promise<{ code: number; reason: string }>((resolve) => {
      const client = wsClient(gw.graphqlUrl, { apiKey: 'not-a-key-at-all-0000' });
      client.subscribe({ query: '{ __typename }' }, {
        next: () => {},
        error: (e) => resolve(e as { code: number; reason: string }),
        complete: () => resolve({ code: 0, reason: 'completed' }),
      });
    });
    ran += 1;
    if (refusedKey.code !== 4403) found.push(`wrong API key: ${refusedKey.code} ${refusedKey.reason}`);
    expect(found).toEqual([]);
  });
});

describe('after the attack', () => {
  it('the gateway is up, nothing reached Prove, no other caller\'s flow changed, no secret was logged', async () => {
    expect(problems).toEqual([]);
    expect(ran).toBeGreaterThanOrEqual(600);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    expect((await fetch(`${gw.url}/ready`)).status).toBe(200);
    // A real start still works for someone else.
    const fresh = await gw.gql(StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: '2001004041' } });
    expect(fresh.startUnify.__typename).toBe('StartUnifyPayload');
    if (fresh.startUnify.__typename === 'StartUnifyPayload') secrets.add(fresh.startUnify.flow.id).add(fresh.startUnify.authToken);

    const calls = (await upstream.sim.stats()).calls;
    expect(calls['/v3/unify']).toBe((upstreamCallsAfterSetup['/v3/unify'] ?? 0) + 1);
    expect(calls['/v3/unify-status']).toBe(upstreamCallsAfterSetup['/v3/unify-status']);
    expect(calls['/v3/unify-bind']).toBe(upstreamCallsAfterSetup['/v3/unify-bind']);

    expect(await snapshotVictims()).toEqual(snapshot);

    for (const v of [...upstream.seen.accessTokens, ...upstream.seen.correlationIds]) secrets.add(v);
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(leaks(logs.lines, secrets)).toEqual([]);
  });
});
