import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getIntrospectionQuery, print } from 'graphql';
import type { Client } from 'graphql-ws';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { BindPhoneDocument, FlowDocument, StartUnifyDocument, UnifyStatusDocument, WatchStatusDocument } from '../generated/graphql.js';
import { captureLogs, leaks, startUpstream, trustedWs, wsClient, wsCloseAfter, wsHandshake, wsRun, type Upstream, postChunked } from './support.js';

/**
 * GraphQL hardening as a client sees it, on HTTP and on graphql-ws: real operations and
 * GraphiQL still work in development; limits, CSRF, batching, body size, origins, introspection,
 * suggestions and masking hold in production.
 */

const APP = 'https://app.example.com';
const introspection = getIntrospectionQuery({
  descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true,
});

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

const messagesOf = (body: { errors?: { message: string }[] }) => (body.errors ?? []).map((e) => e.message).join(' | ');

describe('development: the real operations and GraphiQL pass the limits', () => {
  let gw: TestGateway;
  let ws: Client;
  const logs = captureLogs();
  beforeAll(async () => {
    gw = await startGateway({ NODE_ENV: 'development' }, { logger: logs.logger });
    ws = trustedWs(gw.graphqlUrl);
  });
  afterAll(async () => {
    await ws.dispose();
    await gw.close();
  });

  it('every document in test/documents runs over HTTP and WebSocket', async () => {
    const viaHttp = await gw.gql(StartUnifyDocument, { input: { possessionType: 'NONE', phoneNumber: '2001004014' } });
    expect(viaHttp.startUnify.__typename).toBe('StartUnifyPayload');
    const viaWs = await wsRun(ws, { query: print(StartUnifyDocument), variables: { input: { possessionType: 'NONE', phoneNumber: '2001004015' } } });
    expect(viaWs.results[0]?.errors).toBeUndefined();
    const started = viaWs.results[0]!.data!.startUnify as { flow: { id: string }; authToken: string };
    await gw.sim.authenticate({ authToken: started.authToken });

    for (const [document, variables] of [
      [UnifyStatusDocument, { flowId: started.flow.id }],
      [FlowDocument, { id: started.flow.id }],
      [BindPhoneDocument, { input: { flowId: started.flow.id, phoneNumber: '2001004015' } }],
    ] as const) {
      const http = await gw.raw({ query: print(document), variables }, { authorization: `Bearer ${TEST_API_KEY}` });
      expect(http.status, messagesOf(http.body)).toBe(200);
      expect(http.body.errors).toBeUndefined();
      const overWs = await wsRun(ws, { query: print(document), variables });
      expect(overWs.errors).toBeUndefined();
      expect(overWs.results[0]?.errors).toBeUndefined();
    }
    const watched = await wsRun(ws, { query: print(WatchStatusDocument), variables: { flowId: started.flow.id } });
    expect(watched.completed).toBe(true);
    expect(watched.results.at(-1)?.data?.unifyStatus).toMatchObject({ __typename: 'UnifyStatusPayload', flow: { state: 'BOUND' } });
  });

  it("GraphiQL is served, and its introspection query answers on both transports", async () => {
    const page = await fetch(gw.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const http = await gw.raw({ query: introspection });
    expect(http.status).toBe(200);
    expect((http.body.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(20);
    const overWs = await wsRun(ws, { query: introspection });
    expect(overWs.results[0]?.errors).toBeUndefined();
    expect(overWs.results[0]?.data?.__schema).toBeTruthy();
  });

  it('field suggestions help in development', async () => {
    const http = await gw.raw({ query: '{ flows(id: "x") { id } }' });
    expect(messagesOf(http.body)).toContain('Did you mean "flow"');
  });
});

describe('production', () => {
  let upstream: Upstream;
  let gw: TestGateway;
  let ws: Client;
  const logs = captureLogs();
  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startGateway({ NODE_ENV: 'production', CORS_ORIGINS: APP, ...upstream.env }, { logger: logs.logger });
    ws = wsClient(gw.graphqlUrl);
  });
  afterAll(async () => {
    await ws.dispose();
    await gw.close();
    await upstream.close();
  });

  /** The same document over HTTP and WebSocket: both refuse it, with these words. */
  async function refusedOnBoth(query: string, words: RegExp, variables?: Record<string, unknown>) {
    const http = await gw.raw({ query, variables });
    expect(http.status, JSON.stringify(http.body)).toBeGreaterThanOrEqual(400);
    expect(http.status).toBeLessThan(500);
    expect(messagesOf(http.body)).toMatch(words);
    const overWs = await wsRun(ws, { query, variables: variables ?? null });
    const wsMessages = [...(overWs.errors ?? []), ...overWs.results.flatMap((r) => r.errors ?? [])].map((e) => e.message).join(' | ');
    expect(wsMessages).toMatch(words);
    expect(overWs.results.some((r) => r.data)).toBe(false);
    return { http: messagesOf(http.body), ws: wsMessages };
  }

  it('introspection is refused on HTTP and WebSocket; __typename still answers', async () => {
    await refusedOnBoth(introspection, /introspection/i);
    await refusedOnBoth('{ __type(name: "UnifyFlow") { fields { name } } }', /introspection/i);
    const typename = await gw.raw({ query: '{ __typename }' });
    expect(typename.body.data).toEqual({ __typename: 'Query' });
  });

  it('GraphiQL is not served', async () => {
    const page = await fetch(gw.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(await page.text()).not.toContain('<html');
  });

  it('field, argument and enum suggestions are hidden on both transports', async () => {
    for (const [query, variables, hidden] of [
      ['{ flows(id: "x") { id } }', undefined, '"flow"'],
      ['{ flow(idd: "x") { id } }', undefined, 'Did you mean'],
      ['{ flow(id: "x") { stat } }', undefined, '"state"'],
      ['mutation($input: StartUnifyInput!) { startUnify(input: $input) { __typename } }', { input: { possessionType: 'MOBIL', phoneNumber: '2001004014' } }, 'MOBILE'],
      ['mutation($input: StartUnifyInput!) { startUnify(input: $input) { __typename } }', { input: { possessionType: 'MOBILE', phoneNumbr: '2001004014' } }, '"phoneNumber"'],
    ] as const) {
      const { http, ws: overWs } = await refusedOnBoth(query, /./, variables);
      for (const said of [http, overWs]) {
        expect(said).not.toContain('Did you mean');
        expect(said).not.toContain(hidden);
      }
    }
  });

  it('depth, alias, token, directive and cost limits hold on both transports', async () => {
    const nest = (n: number, inner: string) => '... on UnifyFlow { '.repeat(n) + inner + ' }'.repeat(n);
    await refusedOnBoth(`{ flow(id: "x") { ${nest(16, 'id')} } }`, /depth limit/);
    await refusedOnBoth(`{ ${Array.from({ length: 11 }, (_, i) => `a${i}: flow(id: "x") { id }`).join(' ')} }`, /Aliases limit/);
    await refusedOnBoth(`{ flow(id: "x") { ${'id '.repeat(1200)} } }`, /Token limit/);
    await refusedOnBoth(`{ flow(id: "x") { id ${'@include(if: true) '.repeat(11)} } }`, /Directives limit/);
    await refusedOnBoth(`{ flow(id: "x") { ${nest(12, 'id '.repeat(60))} } }`, /Cost limit/);
  });

  it('batched requests are refused', async () => {
    const res = await post(gw.graphqlUrl, JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
    expect(res.status).toBe(400);
    expect(messagesOf(await res.json())).toMatch(/Batching is not supported/);
  });

  it('CSRF: a GET or a simple content type needs a preflight-forcing header', async () => {
    const get = (headers: Record<string, string>) => fetch(`${gw.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers });
    const bare = await get({});
    expect(bare.status).toBe(403);
    expect(messagesOf(await bare.json())).toMatch(/CSRF/);
    expect((await get({ 'x-graphql-yoga-csrf': '1' })).status).toBe(200);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await post(gw.graphqlUrl, JSON.stringify({ query: '{ __typename }' }), { 'content-type': type });
      expect(res.status, type).toBe(403);
    }
    const mutationByGet = await fetch(
      `${gw.graphqlUrl}?query=${encodeURIComponent('mutation { startUnify(input: { possessionType: MOBILE, phoneNumber: "2001004014" }) { __typename } }')}`,
      { headers: { 'x-graphql-yoga-csrf': '1' } },
    );
    expect(mutationByGet.status).toBe(405);
  });

  it('bodies over 64 KiB are a 413 with a message, declared or chunked; WebSocket messages over 64 KiB close with 1009', async () => {
    const big = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(70_000) } });
    const declared = await post(gw.graphqlUrl, big);
    expect(declared.status).toBe(413);
    expect(messagesOf(await declared.json())).toMatch(/larger than 65536 bytes/);

    const chunked = await postChunked(gw.graphqlUrl, 20);
    expect(chunked.status).toBe(413);
    expect(chunked.body).toMatch(/larger than 65536 bytes/);

    // The socket's error is the gateway's log's business (a warning), not a stack trace on stderr.
    const stderr = vi.spyOn(console, 'error');
    try {
      const closed = await wsCloseAfter(gw.graphqlUrl, [JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(70_000) } } })]);
      expect(closed.code).toBe(1009);
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
    }
    const warning = logs.lines.map((line) => JSON.parse(line) as { level: number; msg: string }).find((l) => l.msg.includes('broke the WebSocket protocol'));
    expect(warning?.level).toBe(40);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it('origins: CORS for CORS_ORIGINS only, other origins refused with 403 on HTTP and on the WebSocket upgrade', async () => {
    const allowed = await post(gw.graphqlUrl, JSON.stringify({ query: '{ __typename }' }), { origin: APP });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    const preflight = await fetch(gw.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP);

    const foreign = await post(gw.graphqlUrl, JSON.stringify({ query: '{ __typename }' }), { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(messagesOf(await foreign.json())).toMatch(/origin/i);
    const foreignPreflight = await fetch(gw.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreignPreflight.headers.get('access-control-allow-origin')).toBeNull();

    expect(await wsHandshake(gw.graphqlUrl, { origin: 'https://evil.example' })).toMatchObject({ opened: false, status: 403 });
    expect(await wsHandshake(gw.graphqlUrl, { origin: 'null' })).toMatchObject({ opened: false, status: 403 });
    for (const origin of [APP, gw.url, undefined]) {
      const shake = await wsHandshake(gw.graphqlUrl, origin ? { origin } : {});
      expect(shake.opened, String(origin)).toBe(true);
      shake.socket?.close();
    }
  });

  it('refused Prove credentials: a typed UpstreamError naming the credentials on both transports, the detail (no secret) in the log', async () => {
    const wrong = await startGateway(
      { NODE_ENV: 'production', ...upstream.env, PROVE_CLIENT_SECRET: 'not-the-secret-at-all' },
      { logger: logs.logger },
    );
    const wrongWs = wsClient(wrong.graphqlUrl);
    try {
      const query = print(StartUnifyDocument);
      const variables = { input: { possessionType: 'MOBILE', phoneNumber: '2001004014' } };
      const http = await wrong.raw({ query, variables });
      expect(http.status).toBe(200);
      expect(http.body.errors).toBeUndefined();
      const typed = { __typename: 'UpstreamError', code: 'UPSTREAM_UNAVAILABLE', message: expect.stringContaining("Prove refused the gateway's credentials") };
      expect((http.body.data as { startUnify: unknown }).startUnify).toMatchObject(typed);
      const overWs = await wsRun(wrongWs, { query, variables });
      expect(overWs.results[0]?.errors).toBeUndefined();
      expect((overWs.results[0]?.data as { startUnify: unknown }).startUnify).toMatchObject(typed);
      expect(logs.lines.some((l) => l.includes('Prove refused our credentials'))).toBe(true);
    } finally {
      await wrongWs.dispose();
      await wrong.close();
    }
  });

  it('no log line carries a secret', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    const secrets = [TEST_API_KEY, 'emulator-secret', 'not-the-secret-at-all', ...upstream.seen.accessTokens, ...upstream.seen.authTokens, ...upstream.seen.correlationIds, '+12001004014'];
    expect(leaks(logs.lines, secrets)).toEqual([]);
  });
});
