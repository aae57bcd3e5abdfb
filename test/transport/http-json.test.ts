import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print, getIntrospectionQuery } from 'graphql';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/app/gateway.js';
import { createStore, type Store } from '../../src/store/redis-store.js';
import { flowKey } from '../../src/store/flow-repository.js';
import { createFlowEvents } from '../../src/events/flow-events.js';
import { FlowDocument, UnifyStatusDocument, StartUnifyDocument } from '../generated/graphql.js';
import { PageStatusDocument } from '../../src/ui/page/generated/graphql.js';
import { startUpstream, type Upstream } from '../security/support.js';
import { SEND_LIMITS_OFF, TEST_API_KEY } from '../support/gateway.js';

/**
 * The node:http JSON transport (src/transport/http-json.ts) answers byte for byte as yoga does.
 * Two production gateways share one store, pub/sub and Prove emulator: `json` with the transport,
 * `yoga` without it. Every request is sent to both with the same headers and body, and the
 * status, the headers and the body must be identical; the served counter says which requests the
 * transport took (every plain JSON POST without Origin; anything else is yoga's).
 */

let upstream: Upstream;
let json: Gateway; // with the JSON transport
let yoga: Gateway;
let served = 0;
let store: Store;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw request (node:http, so no header is added behind our back: no Origin, no Accept unless given). */
function send(url: string, body: string, headers: Record<string, string | undefined>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const req = httpRequest(url, { method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...clean } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const kept: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (k !== 'date' && typeof v === 'string') kept[k] = v;
        resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The same request to both gateways; returns both answers and whether the JSON transport served it. */
async function both(body: unknown, headers: Record<string, string | undefined> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  // One request id for both: each echoes it, so the answers can be compared byte for byte.
  const h = { 'content-type': 'application/json', 'x-request-id': 'compare-both', ...headers };
  const before = served;
  const viaJson = await send(json.graphqlUrl, text, h);
  const tookJson = served > before;
  const viaYoga = await send(yoga.graphqlUrl, text, h);
  return { viaJson, viaYoga, tookJson };
}

const ACCEPTS = [undefined, '*/*', 'application/json', 'application/graphql-response+json'];
const trusted = { authorization: `Bearer ${TEST_API_KEY}` };

beforeAll(async () => {
  // Every start here goes to both gateways: Prove's 25/s (emulator and budget alike) is not under test.
  upstream = await startUpstream({ rateLimitPerSecond: 0 });
  const env = {
    NODE_ENV: 'production', PORT: '0', GATEWAY_API_KEYS: TEST_API_KEY, PROVE_RATE_LIMIT: '10000',
    ...SEND_LIMITS_OFF, ...upstream.env,
  };
  store = createStore(undefined);
  const events = createFlowEvents();
  const logger = pino({ level: 'silent' });
  json = await createGateway(loadConfig(env), { logger, store, events, httpJson: { onServed: () => served++ } });
  yoga = await createGateway(loadConfig(env), { logger, store, events, httpJson: false });
});

afterAll(async () => {
  await json?.close();
  await yoga?.close();
  await upstream?.close();
});

async function startFlow(phoneNumber = '2001004018') {
  const { viaJson, tookJson } = await both({ query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber } } }, trusted);
  expect(tookJson).toBe(true);
  const id = JSON.parse(viaJson.body).data.startUnify.flow.id as string;
  // 2001004018 passes with no device step: the first status makes the flow VERIFIED (terminal), so
  // further reads answer from the store and both gateways see the same flow.
  await send(yoga.graphqlUrl, JSON.stringify({ query: print(UnifyStatusDocument), variables: { flowId: id } }), { 'content-type': 'application/json' });
  return id;
}

describe('http-json: identical answers', () => {
  it('serves every query of test/documents and the status page, for every accept, public and trusted, as yoga does', async () => {
    const id = await startFlow();
    const queries = [
      { query: print(FlowDocument), variables: { id } },
      { query: print(FlowDocument), variables: { id }, operationName: 'Flow' },
      { query: print(UnifyStatusDocument), variables: { flowId: id } },
      { query: String(PageStatusDocument), variables: { flowId: id }, operationName: null },
      // Unknown flows: null for flow(id), a typed error for unifyStatus.
      { query: print(FlowDocument), variables: { id: 'no-such-flow' } },
      { query: print(UnifyStatusDocument), variables: { flowId: 'no-such-flow' } },
    ];
    for (const body of queries) {
      for (const accept of ACCEPTS) {
        for (const auth of [{}, trusted]) {
          const { viaJson, viaYoga, tookJson } = await both(body, { accept, ...auth });
          expect(tookJson, `${accept} ${body.query.slice(0, 20)}`).toBe(true);
          expect(viaJson).toEqual(viaYoga);
          expect(viaJson.status).toBe(200);
        }
      }
    }
    // The trusted caller sees more than the public one: the caller reached the resolvers.
    const pub = JSON.parse((await both({ query: print(FlowDocument), variables: { id } })).viaJson.body).data.flow;
    const key = JSON.parse((await both({ query: print(FlowDocument), variables: { id } }, trusted)).viaJson.body).data.flow;
    expect(pub.correlationId).toBeNull();
    expect(key.correlationId).toEqual(expect.any(String));
    expect(key.phoneNumber).not.toEqual(pub.phoneNumber);
  });

  it('content-type with charset is served; other shapes go to yoga and still answer the same', async () => {
    const id = await startFlow();
    const body = { query: print(FlowDocument), variables: { id } };
    expect((await both(body, { 'content-type': 'application/json; charset=utf-8' })).tookJson).toBe(true);
    for (const headers of [
      { accept: 'application/json; charset=utf-8' },
      { accept: 'application/graphql-response+json, application/json' },
      { accept: 'text/event-stream' },
      { accept: 'text/html' },
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/graphql' },
    ]) {
      const { viaJson, viaYoga, tookJson } = await both(body, headers);
      expect(tookJson, JSON.stringify(headers)).toBe(false);
      expect(viaJson).toEqual(viaYoga);
    }
    for (const extra of [{ variables: [id] }, { operationName: 5 }, { unknown: 1 }, { unknown: null }, { extensions: 'x' }, { variables: 'x' }]) {
      const { viaJson, viaYoga, tookJson } = await both({ ...body, ...extra });
      expect(tookJson, JSON.stringify(extra)).toBe(false);
      expect(viaJson).toEqual(viaYoga);
    }
    for (const extra of [{ extensions: {} }, { extensions: null }, { variables: null, operationName: null }]) {
      const { viaJson, viaYoga, tookJson } = await both({ ...body, ...extra });
      expect(tookJson, JSON.stringify(extra)).toBe(true);
      expect(viaJson).toEqual(viaYoga);
    }
  });

  it('a browser (Origin) always takes yoga, with its CORS and origin checks', async () => {
    const id = await startFlow();
    const body = { query: print(FlowDocument), variables: { id } };
    for (const origin of ['https://evil.example', json.url]) {
      const { tookJson, viaJson } = await both(body, { origin });
      expect(tookJson).toBe(false);
      expect(viaJson.status).toBe(origin === json.url ? 200 : 403);
    }
  });
});

describe('http-json: hostile requests behave as through yoga', () => {
  // Bodies that are not one JSON object are yoga's to answer; every other case runs through the transport.
  const cases: [string, unknown, Record<string, string>][] = [
    ['a bad API key (401)', { query: print(FlowDocument), variables: { id: 'x' } }, { authorization: 'Bearer wrong-key' }],
    ['a malformed Authorization', { query: print(FlowDocument), variables: { id: 'x' } }, { authorization: 'Basic abc' }],
    ['introspection in production', { query: getIntrospectionQuery() }, {}],
    ['__schema alone', { query: '{ __schema { types { name } } }' }, {}],
    ['malformed JSON', '{"query": "{ flow(id: \\"x\\") { id } }"', {}],
    ['not an object', '["{ __typename }"]', {}],
    ['a syntax error', { query: '{ flow(id: "x") { id ' }, {}],
    ['an unknown field (no suggestion in production)', { query: '{ flow(id: "x") { idd } }' }, {}],
    ['too deep', { query: `{ flow(id: "x") { id ${'... on UnifyFlow { '.repeat(20)}id${' }'.repeat(20)} } }` }, {}],
    ['too many aliases', { query: `{ ${Array.from({ length: 12 }, (_, i) => `a${i}: flow(id: "x") { id }`).join(' ')} }` }, {}],
    ['too many tokens', { query: `{ flow(id: "x") { ${'id '.repeat(1200)} } }` }, {}],
    ['a missing variable', { query: print(FlowDocument), variables: {} }, {}],
    ['a variable of the wrong type', { query: print(FlowDocument), variables: { id: { a: 1 } } }, {}],
    ['an enum value misspelt (no suggestion)', { query: 'query($t: PossessionType!) { __typename }', variables: { t: 'MOBIL' } }, {}],
    ['an unknown operationName', { query: print(FlowDocument), variables: { id: 'x' }, operationName: 'Nope' }, {}],
    ['two anonymous operations', { query: '{ __typename } { __typename }' }, {}],
    ['a subscription over POST', { query: 'subscription { unifyStatus(flowId: "x") { __typename } }' }, {}],
    ['an empty query', { query: '' }, {}],
    ['variables nested too deep', { query: print(FlowDocument), variables: { id: 'x', deep: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) } }, {}],
    ['too many variables', { query: print(FlowDocument), variables: Object.fromEntries(Array.from({ length: 2_100 }, (_, i) => [`v${i}`, i])) }, {}],
    ['extensions nested too deep', { query: print(FlowDocument), variables: { id: 'x' }, extensions: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }, {}],
    ['a batch (array of operations)', [{ query: '{ __typename }' }, { query: '{ __typename }' }], {}],
    ['a JSON string', '"{ __typename }"', {}],
    ['JSON null', 'null', {}],
    ['an empty body', '', {}],
  ];
  const forYoga = (body: unknown) => typeof body === 'string' || Array.isArray(body);
  for (const [name, body, headers] of cases) {
    it(name, async () => {
      for (const accept of ACCEPTS) {
        const { viaJson, viaYoga, tookJson } = await both(body, { accept, ...headers });
        expect(tookJson).toBe(!forYoga(body));
        expect(viaJson).toEqual(viaYoga);
        expect(viaJson.status).toBeLessThan(500);
      }
    });
  }

  it("an unexpected error in a resolver is masked as yoga masks it (the gateway's one maskError)", async () => {
    const id = await startFlow();
    // A stored record the resolvers cannot read: failureReasons throws a TypeError.
    const key = `flow:${flowKey(id)}`;
    const record = await store.keyv.get<Record<string, unknown>>(key);
    await store.keyv.set(key, { ...record, evaluation: 'corrupt' }, 60_000);
    for (const accept of ACCEPTS) {
      const { viaJson, viaYoga, tookJson } = await both({ query: print(FlowDocument), variables: { id } }, { accept });
      expect(tookJson).toBe(true);
      expect(viaJson).toEqual(viaYoga);
      expect(viaJson.body).toContain('Unexpected error.');
      expect(viaJson.body).not.toContain('flatMap');
    }
  });

  it('a bad key is refused 401 by the context, on the transport as through yoga', async () => {
    const body = { query: print(FlowDocument), variables: { id: 'x' } };
    expect((await both(body)).tookJson).toBe(true);
    const { viaJson, viaYoga, tookJson } = await both(body, { authorization: 'Bearer wrong' });
    expect(tookJson).toBe(true);
    expect(viaJson.status).toBe(401);
    expect(viaJson).toEqual(viaYoga);
  });

  it('a document holding a query and a mutation: each is served as the operation selected', async () => {
    const id = await startFlow();
    const query = `${print(FlowDocument)}\nmutation Bind($input: BindPhoneInput!) { bindPhone(input: $input) { __typename } }`;
    const q = await both({ query, variables: { id }, operationName: 'Flow' });
    expect(q.tookJson).toBe(true);
    expect(q.viaJson).toEqual(q.viaYoga);
    // A MOBILE flow cannot be bound: the same typed refusal either way, and the flow stays as it was.
    const m = await both({ query, variables: { input: { flowId: id, phoneNumber: '2001004018' } }, operationName: 'Bind' }, trusted);
    expect(m.tookJson).toBe(true);
    expect(m.viaJson).toEqual(m.viaYoga);
    expect(JSON.parse(m.viaJson.body).data.bindPhone.__typename).toBe('BindNotAllowedError');
    expect((await both({ query: print(FlowDocument), variables: { id } })).viaJson.body).toContain('"state":"VERIFIED"');
  });
});

describe('http-json: mutations', () => {
  /** Two starts make two flows: their ids, tokens and instants differ, and nothing else may. */
  const normalised = (answer: Answer) => ({
    ...answer,
    headers: { ...answer.headers, 'content-length': 'n' },
    body: answer.body
      .replace(/"(id|authToken|correlationId|clientRequestId)":"[^"]+"/g, '"$1":"…"')
      .replace(/"(createdAt|updatedAt|expiresAt)":"[^"]+"/g, '"$1":"…"'),
  });

  it('startUnify is served for every accept, public and trusted, answering as yoga does', async () => {
    const body = { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } };
    for (const accept of ACCEPTS) {
      for (const auth of [{}, trusted]) {
        const { viaJson, viaYoga, tookJson } = await both(body, { accept, ...auth });
        expect(tookJson).toBe(true);
        expect(normalised(viaJson)).toEqual(normalised(viaYoga));
        const started = JSON.parse(viaJson.body).data.startUnify;
        expect(started).toMatchObject({ __typename: 'StartUnifyPayload', authToken: expect.any(String), flow: { state: 'PENDING' } });
        // The flow it made is real: yoga's path reads it back.
        const read = await send(yoga.graphqlUrl, JSON.stringify({ query: print(FlowDocument), variables: { id: started.flow.id } }), { 'content-type': 'application/json' });
        expect(JSON.parse(read.body).data.flow.id).toBe(started.flow.id);
      }
    }
  });

  it('refusals are the same typed errors, byte for byte', async () => {
    const cases = [
      { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '12' } } },
      { query: print(StartUnifyDocument), variables: { input: { possessionType: 'DESKTOP', phoneNumber: '2001004018' } } },
      { query: 'mutation { bindPhone(input: { flowId: "x", phoneNumber: "2001004015" }) { __typename ... on Error { code message } } }' },
      { query: `query Q { __typename } mutation M { bindPhone(input: { flowId: "x", phoneNumber: "1" }) { __typename } }`, operationName: 'M' },
      // Variables that do not coerce: no resolver runs; the same words and status.
      { query: print(StartUnifyDocument), variables: { input: { possessionType: 'CARRIER_PIGEON', phoneNumber: '2001004018' } } },
    ];
    for (const body of cases) {
      for (const auth of [{}, trusted]) {
        const { viaJson, viaYoga } = await both(body, auth);
        expect(viaJson, body.query.slice(0, 40)).toEqual(viaYoga);
      }
    }
  });
});

describe('http-json: metrics', () => {
  const scrape = async (g: Gateway) => {
    const text = await (await fetch(`${g.url}/metrics`)).text();
    const series = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line.startsWith('graphql_') || line.includes('quantile=')) continue;
      const at = line.lastIndexOf(' ');
      const name = line.slice(0, at);
      // Durations differ; which series moved, and the counts, must not.
      if (name.includes('_sum')) continue;
      series.set(name, Number(line.slice(at + 1)));
    }
    return series;
  };
  const delta = (a: Map<string, number>, b: Map<string, number>) => {
    const out: Record<string, number> = {};
    for (const [k, v] of b) if (v !== (a.get(k) ?? 0) && !k.includes('_bucket')) out[k] = v - (a.get(k) ?? 0);
    return out;
  };

  // graphql_yoga_http_duration is timed by yoga's HTTP layer (onRequest/onResponse), which the transport skips (README, Metrics).
  const envelopOnly = (d: Record<string, number>) => Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('graphql_yoga_http')));

  it('a query through the transport moves the same envelop series as through yoga, and no yoga HTTP series', async () => {
    const id = await startFlow();
    const body = { query: print(FlowDocument), variables: { id } };
    await both(body); // both have seen the document once
    const [j0, y0] = [await scrape(json), await scrape(yoga)];
    for (let i = 0; i < 3; i++) expect((await both(body, { accept: 'application/graphql-response+json' })).tookJson).toBe(true);
    const [j1, y1] = [await scrape(json), await scrape(yoga)];
    expect(delta(j0, j1)).toEqual(envelopOnly(delta(y0, y1)));
    expect(delta(j0, j1)).toMatchObject({ 'graphql_envelop_request_duration_count{operationType="query"}': 3 });
    expect(Object.keys(delta(y0, y1)).some((k) => k.startsWith('graphql_yoga_http_duration'))).toBe(true);
  });

  it('a mutation through the transport moves the same envelop series as through yoga', async () => {
    const body = { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } };
    await both(body, trusted);
    const [j0, y0] = [await scrape(json), await scrape(yoga)];
    for (let i = 0; i < 2; i++) expect((await both(body, trusted)).tookJson).toBe(true);
    const [j1, y1] = [await scrape(json), await scrape(yoga)];
    // Both gateways count flows started in the store they share; the GraphQL and HTTP series are their own.
    const graphqlOnly = (d: Record<string, number>) => Object.fromEntries(Object.entries(d).filter(([k]) => k.startsWith('graphql_')));
    expect(graphqlOnly(delta(j0, j1))).toEqual(envelopOnly(graphqlOnly(delta(y0, y1))));
    expect(delta(j0, j1)).toMatchObject({ 'graphql_envelop_request_duration_count{operationType="mutation"}': 2 });
  });
});
