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
import { TEST_API_KEY } from '../support/gateway.js';

/**
 * The known-documents fast path (src/fastpath/known-documents.ts) answers byte for byte as yoga
 * does. Two production gateways share one store, pub/sub and Prove emulator: `fast` with the fast
 * path, `yoga` without it. Every request is sent to both with the same headers and body, and the
 * status, the headers that matter and the body must be identical; the served counter says which
 * requests the fast path took.
 */

let upstream: Upstream;
let fast: Gateway;
let yoga: Gateway;
let served = 0;
let reused = 0;
const warmed = new Set<string>();
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

/** The same request to both gateways; returns both answers and whether the fast path served it. */
async function both(body: unknown, headers: Record<string, string | undefined> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  // One request id for both: each echoes it, so the answers can be compared byte for byte.
  const h = { 'content-type': 'application/json', 'x-request-id': 'compare-both', ...headers };
  const before = served;
  // The fast path knows only documents yoga has validated once before.
  if (!warmed.has(text)) {
    warmed.add(text);
    await send(fast.graphqlUrl, text, h);
  }
  const viaFast = await send(fast.graphqlUrl, text, h);
  const tookFast = served > before;
  const viaYoga = await send(yoga.graphqlUrl, text, h);
  return { viaFast, viaYoga, tookFast };
}

const ACCEPTS = [undefined, '*/*', 'application/json', 'application/graphql-response+json'];
const trusted = { authorization: `Bearer ${TEST_API_KEY}` };

beforeAll(async () => {
  // Every start here goes to both gateways: Prove's 25/s (emulator and budget alike) is not under test.
  upstream = await startUpstream({ rateLimitPerSecond: 0 });
  const env = {
    NODE_ENV: 'production', PORT: '0', GATEWAY_API_KEYS: TEST_API_KEY, PROVE_RATE_LIMIT: '10000',
    START_LIMIT_PER_NUMBER: '10000/1m', START_LIMIT_PER_NUMBER_ALL: '10000/1m', START_LIMIT_PER_NUMBER_TRUSTED: '10000/1m', START_LIMIT_PER_ADDRESS: '10000/1m', ...upstream.env,
  };
  store = createStore(undefined);
  const events = createFlowEvents();
  const logger = pino({ level: 'silent' });
  fast = await createGateway(loadConfig(env), { logger, store, events, knownDocuments: { onServed: (how) => (served++, how?.reused && reused++) } });
  yoga = await createGateway(loadConfig(env), { logger, store, events, knownDocuments: false });
});

afterAll(async () => {
  await fast?.close();
  await yoga?.close();
  await upstream?.close();
});

async function startFlow(phoneNumber = '2001004018') {
  const { viaFast, tookFast } = await both({ query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber } } }, trusted);
  expect(tookFast).toBe(true);
  const id = JSON.parse(viaFast.body).data.startUnify.flow.id as string;
  // 2001004018 passes with no device step: the first status makes the flow VERIFIED (terminal), so
  // further reads answer from the store and both gateways see the same flow.
  await send(yoga.graphqlUrl, JSON.stringify({ query: print(UnifyStatusDocument), variables: { flowId: id } }), { 'content-type': 'application/json' });
  return id;
}

describe('known documents: identical answers', () => {
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
          const { viaFast, viaYoga, tookFast } = await both(body, { accept, ...auth });
          expect(tookFast, `${accept} ${body.query.slice(0, 20)}`).toBe(true);
          expect(viaFast).toEqual(viaYoga);
          expect(viaFast.status).toBe(200);
        }
      }
    }
    // The trusted caller sees more than the public one: the caller reached the resolvers.
    const pub = JSON.parse((await both({ query: print(FlowDocument), variables: { id } })).viaFast.body).data.flow;
    const key = JSON.parse((await both({ query: print(FlowDocument), variables: { id } }, trusted)).viaFast.body).data.flow;
    expect(pub.correlationId).toBeNull();
    expect(key.correlationId).toEqual(expect.any(String));
    expect(key.phoneNumber).not.toEqual(pub.phoneNumber);
  });

  it('content-type with charset is served; other shapes go to yoga and still answer the same', async () => {
    const id = await startFlow();
    const body = { query: print(FlowDocument), variables: { id } };
    expect((await both(body, { 'content-type': 'application/json; charset=utf-8' })).tookFast).toBe(true);
    for (const headers of [
      { accept: 'application/json; charset=utf-8' },
      { accept: 'application/graphql-response+json, application/json' },
      { accept: 'text/event-stream' },
      { accept: 'text/html' },
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/graphql' },
    ]) {
      const { viaFast, viaYoga, tookFast } = await both(body, headers);
      expect(tookFast, JSON.stringify(headers)).toBe(false);
      expect(viaFast).toEqual(viaYoga);
    }
    for (const extra of [{ extensions: {} }, { variables: [id] }, { operationName: 5 }, { unknown: 1 }]) {
      const { viaFast, viaYoga, tookFast } = await both({ ...body, ...extra });
      expect(tookFast, JSON.stringify(extra)).toBe(false);
      expect(viaFast).toEqual(viaYoga);
    }
  });

  it('a browser (Origin) always takes yoga, with its CORS and origin checks', async () => {
    const id = await startFlow();
    const body = { query: print(FlowDocument), variables: { id } };
    for (const origin of ['https://evil.example', fast.url]) {
      const { tookFast, viaFast } = await both(body, { origin });
      expect(tookFast).toBe(false);
      expect(viaFast.status).toBe(origin === fast.url ? 200 : 403);
    }
  });
});

describe('known documents: hostile requests behave as through yoga', () => {
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
  ];
  for (const [name, body, headers] of cases) {
    it(name, async () => {
      for (const accept of ACCEPTS) {
        const { viaFast, viaYoga, tookFast } = await both(body, { accept, ...headers });
        expect(tookFast).toBe(false);
        expect(viaFast).toEqual(viaYoga);
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
      const { viaFast, viaYoga, tookFast } = await both({ query: print(FlowDocument), variables: { id } }, { accept });
      expect(tookFast).toBe(true);
      expect(viaFast).toEqual(viaYoga);
      expect(viaFast.body).toContain('Unexpected error.');
      expect(viaFast.body).not.toContain('flatMap');
    }
  });

  it('a query served by the fast path once is still refused the same way with a bad key', async () => {
    const body = { query: print(FlowDocument), variables: { id: 'x' } };
    expect((await both(body)).tookFast).toBe(true);
    const { viaFast, viaYoga, tookFast } = await both(body, { authorization: 'Bearer wrong' });
    expect(tookFast).toBe(false);
    expect(viaFast.status).toBe(401);
    expect(viaFast).toEqual(viaYoga);
  });

  it('a document holding a query and a mutation: each is served as the operation selected', async () => {
    const id = await startFlow();
    const query = `${print(FlowDocument)}\nmutation Bind($input: BindPhoneInput!) { bindPhone(input: $input) { __typename } }`;
    const q = await both({ query, variables: { id }, operationName: 'Flow' });
    expect(q.tookFast).toBe(true);
    expect(q.viaFast).toEqual(q.viaYoga);
    // A MOBILE flow cannot be bound: the same typed refusal either way, and the flow stays as it was.
    const m = await both({ query, variables: { input: { flowId: id, phoneNumber: '2001004018' } }, operationName: 'Bind' }, trusted);
    expect(m.tookFast).toBe(true);
    expect(m.viaFast).toEqual(m.viaYoga);
    expect(JSON.parse(m.viaFast.body).data.bindPhone.__typename).toBe('BindNotAllowedError');
    expect((await both({ query: print(FlowDocument), variables: { id } })).viaFast.body).toContain('"state":"VERIFIED"');
  });
});

describe('known documents: mutations', () => {
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
        const { viaFast, viaYoga, tookFast } = await both(body, { accept, ...auth });
        expect(tookFast).toBe(true);
        expect(normalised(viaFast)).toEqual(normalised(viaYoga));
        const started = JSON.parse(viaFast.body).data.startUnify;
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
      // Variables that do not coerce: no resolver runs, and yoga answers with its own words and status.
      { query: print(StartUnifyDocument), variables: { input: { possessionType: 'CARRIER_PIGEON', phoneNumber: '2001004018' } } },
    ];
    for (const body of cases) {
      for (const auth of [{}, trusted]) {
        const { viaFast, viaYoga } = await both(body, auth);
        expect(viaFast, body.query.slice(0, 40)).toEqual(viaYoga);
      }
    }
  });
});

describe('known documents: flow(id) answers kept while the flow is unchanged', () => {
  const read = async (id: string, headers: Record<string, string> = {}) => {
    const text = JSON.stringify({ query: print(FlowDocument), variables: { id } });
    const h = { 'content-type': 'application/json', 'x-request-id': 'compare-both', ...headers };
    const [servedBefore, reusedBefore] = [served, reused];
    const viaFast = await send(fast.graphqlUrl, text, h);
    expect(served).toBe(servedBefore + 1);
    expect(viaFast).toEqual(await send(yoga.graphqlUrl, text, h));
    return { flow: JSON.parse(viaFast.body).data.flow, reused: reused > reusedBefore };
  };
  // The fast path learns the document from yoga's first validation of it.
  beforeAll(() => send(fast.graphqlUrl, JSON.stringify({ query: print(FlowDocument), variables: { id: 'warm-up' } }), { 'content-type': 'application/json' }));

  it('a repeated read is answered again per caller kind, and a change is seen on the next read', async () => {
    // Started, not yet asked about: PENDING until the first unifyStatus.
    const { viaFast } = await both({ query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } }, trusted);
    const id = JSON.parse(viaFast.body).data.startUnify.flow.id as string;
    const first = await read(id);
    expect(first).toMatchObject({ flow: { state: 'PENDING' }, reused: false });
    expect(await read(id)).toEqual({ flow: first.flow, reused: true });
    // The trusted caller's answer is its own (full number, correlationId), never the public one.
    const key = await read(id, trusted);
    expect(key.reused).toBe(false);
    expect(key.flow.correlationId).toEqual(expect.any(String));
    expect(key.flow.phoneNumber).not.toEqual(first.flow.phoneNumber);
    expect(await read(id)).toEqual({ flow: first.flow, reused: true });

    await send(yoga.graphqlUrl, JSON.stringify({ query: print(UnifyStatusDocument), variables: { flowId: id } }), { 'content-type': 'application/json' });
    const changed = await read(id);
    expect(changed).toMatchObject({ flow: { state: 'VERIFIED', terminal: true }, reused: false });
    expect((await read(id, trusted)).flow).toMatchObject({ state: 'VERIFIED', correlationId: key.flow.correlationId });
    expect(await read(id)).toEqual({ flow: changed.flow, reused: true });
  });

  it('a flow that expires while its answer is kept reads EXPIRED', async () => {
    const short = await createGateway(
      loadConfig({ NODE_ENV: 'production', PORT: '0', GATEWAY_API_KEYS: TEST_API_KEY, PROVE_RATE_LIMIT: '10000', FLOW_TTL: '1s', ...upstream.env }),
      { logger: pino({ level: 'silent' }), knownDocuments: { onServed: (how) => how?.reused && reused++ } },
    );
    try {
      const post = async (body: unknown) => JSON.parse((await send(short.graphqlUrl, JSON.stringify(body), { 'content-type': 'application/json' })).body);
      const started = await post({ query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } });
      const { id, expiresAt } = started.data.startUnify.flow as { id: string; expiresAt: string };
      const flowRead = { query: print(FlowDocument), variables: { id } };
      await post(flowRead); // yoga validates the document; the fast path learns it
      await post(flowRead); // the fast path answers, and keeps the answer
      const before = reused;
      expect((await post(flowRead)).data.flow.state).toBe('PENDING');
      expect(reused).toBe(before + 1);
      await new Promise((resolve) => setTimeout(resolve, Date.parse(expiresAt) - Date.now() + 50));
      expect((await post(flowRead)).data.flow).toMatchObject({ state: 'EXPIRED', terminal: true });
    } finally {
      await short.close();
    }
  });
});

describe('known documents: metrics', () => {
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

  it('a request served by the fast path moves the same Prometheus series as through yoga', async () => {
    const id = await startFlow();
    const body = { query: print(FlowDocument), variables: { id } };
    await both(body); // both have seen the document once
    const [f0, y0] = [await scrape(fast), await scrape(yoga)];
    for (let i = 0; i < 3; i++) expect((await both(body, { accept: 'application/graphql-response+json' })).tookFast).toBe(true);
    const [f1, y1] = [await scrape(fast), await scrape(yoga)];
    expect(delta(f0, f1)).toEqual(delta(y0, y1));
    expect(delta(f0, f1)).toMatchObject({ 'graphql_envelop_request{operationType="query"}': 3 });
  });

  it('a mutation served by the fast path moves the same series as through yoga', async () => {
    const body = { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } };
    await both(body, trusted);
    const [f0, y0] = [await scrape(fast), await scrape(yoga)];
    for (let i = 0; i < 2; i++) expect((await both(body, trusted)).tookFast).toBe(true);
    const [f1, y1] = [await scrape(fast), await scrape(yoga)];
    // Both gateways count flows started in the store they share; the GraphQL and HTTP series are their own.
    const graphqlOnly = (d: Record<string, number>) => Object.fromEntries(Object.entries(d).filter(([k]) => k.startsWith('graphql_')));
    expect(graphqlOnly(delta(f0, f1))).toEqual(graphqlOnly(delta(y0, y1)));
    expect(delta(f0, f1)).toMatchObject({ 'graphql_envelop_request{operationType="mutation"}': 2 });
  });
});
