import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import { BindPhoneDocument, FlowDocument, StartUnifyDocument, UnifyStatusDocument, WatchStatusDocument } from '../generated/graphql.js';

/**
 * Hostile requests as fast-check arbitraries: what an attacker sends to a public GraphQL gateway
 * over HTTP (POST, GET, raw bytes), SSE and graphql-ws. Bodies are built as text, so they can be
 * deeper, larger or more broken than JSON.stringify would ever make them.
 */

export const START = print(StartUnifyDocument);
export const STATUS = print(UnifyStatusDocument);
export const FLOW = print(FlowDocument);
export const BIND = print(BindPhoneDocument);
export const WATCH = print(WatchStatusDocument);

const KNOWN = [START, STATUS, FLOW, BIND, WATCH, '{ __typename }', '{ __schema { types { name } } }', 'query { __type(name: "Flow") { fields { name } } }'];

/** Printable ASCII and Latin-1: what an HTTP client can put in a header value. */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength });

/** Any text, including lone surrogates, controls and NULs. */
const anyText = (maxLength: number) => fc.oneof(fc.string({ unit: 'grapheme', maxLength }), fc.string({ unit: 'binary', maxLength }));

const repeat = (unit: string, min: number, max: number) => fc.integer({ min, max }).map((n) => unit.repeat(n));

/** A flow id an attacker might send: victims' ids are mixed in by the test (see `withIds`). */
export const flowIdText = (ids: readonly string[]) =>
  fc.oneof(
    fc.constantFrom(...ids),
    fc.uuid().map(String),
    fc.constantFrom('', ' ', 'null', '../../etc/passwd', 'flow:1', '%00', '\u0000', 'unify:flow:x', '*', '?', '[]'),
    anyText(40),
    repeat('f', 100, 70_000),
  );

export const queryText = (ids: readonly string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...KNOWN) },
    // A known document with a few characters changed.
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...KNOWN), fc.nat(), fc.nat({ max: 8 }), anyText(6)).map(([q, at, cut, s]) => q.slice(0, at % q.length) + s + q.slice((at % q.length) + cut)) },
    { weight: 2, arbitrary: anyText(200) },
    // Deep selections, deep lists, many aliases, many directives, huge literals.
    fc.integer({ min: 2, max: 5_000 }).map((n) => `{${' a {'.repeat(n)}${' }'.repeat(n)}}`),
    fc.integer({ min: 2, max: 20_000 }).map((n) => `{ flow(id: ${'['.repeat(n)}"x"${']'.repeat(n)}) { id } }`),
    fc.integer({ min: 2, max: 3_000 }).map((n) => `{${Array.from({ length: n }, (_, i) => ` a${i}: __typename`).join('')} }`),
    fc.integer({ min: 2, max: 2_000 }).map((n) => `{ __typename${' @include(if: true)'.repeat(n)} }`),
    fc.integer({ min: 1, max: 70_000 }).map((n) => `{ flow(id: "${'x'.repeat(n)}") { id } }`),
    fc.constantFrom(
      'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }',
      'subscription { nope }',
      'mutation { deleteEverything }',
      'query Q { __typename } query Q { __typename }',
      'query { __typename } mutation { __typename }',
      '{ __typename @skip(if: $x) }',
      'subscription A { unifyStatus(flowId: "1") { __typename } } subscription B { unifyStatus(flowId: "2") { __typename } }',
      'subscription { unifyStatus(flowId: "1") { __typename } __typename }',
      '{ flow(id: 1) { id } }',
      'query ($id: ID!) { flow(id: $id) { id phoneNumber correlationId } }',
      'query { unifyStatus(flowId: "x") { ... on UnifyStatusPayload { flow { correlationId authToken } } } }',
      '{ __schema { queryType { name } } }',
      '#',
      '',
      '{',
      '}}}}',
    ),
    flowIdText(ids).map((id) => `{ flow(id: ${JSON.stringify(id)}) { id state phoneNumber correlationId } }`),
  );

/** The trusted documents manifest the fuzzed gateway loads (TRUSTED_DOCUMENTS). */
export const MANIFEST = fileURLToPath(new URL('../generated/persisted-documents.json', import.meta.url));
const MANIFEST_IDS = Object.keys(JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>);

/** A `documentId` (as JSON text): the manifest's ids in both forms, unknown hashes, huge strings, and any other JSON. */
export const documentIdText = (ids: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...MANIFEST_IDS, ...MANIFEST_IDS.map((id) => id.replace(/^sha256:/, ''))).map((id) => JSON.stringify(id)) },
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }).map((hex) => JSON.stringify(`sha256:${hex}`)),
    repeat('a', 100, 70_000).map((id) => JSON.stringify(id)),
    anyText(80).map((id) => JSON.stringify(id)),
    jsonText(ids),
  );

/** `extensions` carrying the APQ extension, well-formed or not. */
export const apqExtensionText = (ids: readonly string[]): fc.Arbitrary<string> =>
  fc
    .record({ version: fc.oneof(fc.constant('1'), jsonText(ids)), sha256Hash: documentIdText(ids) })
    .map(({ version, sha256Hash }) => `{"persistedQuery":{"version":${version},"sha256Hash":${sha256Hash}}}`);

/** JSON text for a value: ordinary JSON, deep nesting, huge sizes, and text that is not JSON at all. */
export const jsonText = (ids: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: fc.record({ flowId: flowIdText(ids), id: flowIdText(ids) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: startInput.map((input) => JSON.stringify({ input })) },
    fc.integer({ min: 1, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
    fc.integer({ min: 1, max: 20_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
    fc.integer({ min: 1, max: 20_000 }).map((n) => `{"input":${'['.repeat(n)}${']'.repeat(n)}}`),
    fc.integer({ min: 1, max: 30_000 }).map((n) => `[${Array.from({ length: n }, () => '0').join(',')}]`),
    fc.integer({ min: 1, max: 10_000 }).map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
    fc.integer({ min: 1, max: 80_000 }).map((n) => JSON.stringify('x'.repeat(n))),
    fc.constantFrom('{', '[', '"', 'nul', 'NaN', 'Infinity', '-', '{"a":}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '1e999999', '"\\ud800"'),
    anyText(50),
  );

const phoneText = fc.oneof(
  fc.constantFrom('2001004014', '2001004015', '+12001004018', '', '+', '0000000000', '+0 200 100 4014', '911', '２００１００４０１４', '2001004014\u0000', '+1 200 100 401\u200b4'),
  fc.stringMatching(/^\+?[0-9 ()-]{0,24}$/),
  anyText(30),
  repeat('9', 30, 10_000),
);

export const startInput = fc.record(
  {
    possessionType: fc.oneof(fc.constantFrom('MOBILE', 'DESKTOP', 'NONE', 'mobile', '', 'OTHER'), fc.integer(), fc.constant(null)),
    phoneNumber: fc.oneof(phoneText, fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })),
    clientRequestId: fc.oneof(anyText(40), repeat('r', 100, 5_000)),
    clientCustomerId: fc.oneof(anyText(40), repeat('c', 100, 5_000)),
    finalTargetUrl: fc.oneof(fc.webUrl(), fc.constantFrom('javascript:alert(1)', 'file:///etc/passwd', 'http://169.254.169.254/', ''), anyText(30)),
    ipAddress: fc.oneof(fc.ipV4(), fc.ipV6(), anyText(20)),
    rebind: fc.oneof(fc.boolean(), fc.string()),
    proveKey: fc.oneof(anyText(40), fc.constant(null)),
  },
  { requiredKeys: [] },
);

/** A GraphQL-over-HTTP body: a request object with hostile members, the wrong JSON type, or not JSON. */
export const postBody = (ids: readonly string[]) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record(
          {
            query: fc.oneof({ weight: 5, arbitrary: queryText(ids).map((q) => JSON.stringify(q)) }, jsonText(ids)),
            variables: jsonText(ids),
            operationName: fc.oneof(fc.constantFrom('"Q"', '"A"', 'null', '""', '1', '[]'), anyText(20).map((s) => JSON.stringify(s))),
            extensions: fc.oneof({ weight: 3, arbitrary: jsonText(ids) }, apqExtensionText(ids)),
            documentId: documentIdText(ids),
          },
          { requiredKeys: [] },
        )
        .map((members) => `{${Object.entries(members).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    },
    { weight: 2, arbitrary: jsonText(ids) },
    // A valid body cut short.
    fc.tuple(queryText(ids), fc.nat()).map(([q, at]) => { const body = JSON.stringify({ query: q }); return body.slice(0, at % body.length); }),
    // Batches (batching is off).
    fc.array(queryText(ids), { minLength: 0, maxLength: 20 }).map((qs) => JSON.stringify(qs.map((query) => ({ query })))),
    fc.integer({ min: 64 * 1024 - 100, max: 80 * 1024 }).map((n) => JSON.stringify({ query: `{ __typename }${' '.repeat(n)}` })),
  );

export const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-8', 'application/graphql-response+json', 'text/plain', 'application/graphql',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16',
    'application/json; charset=nonsense', 'application/xml', '*/*', 'application/json, text/plain', 'json', '',
  ),
  headerText(60),
);

export const accept = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(undefined, 'application/json', 'application/graphql-response+json') },
  fc.constantFrom('*/*', 'text/html', 'text/event-stream', 'multipart/mixed', 'application/xml', 'application/json;q=0, */*;q=0', 'text/event-stream, application/json'),
  headerText(60),
);

const HEADER_NAMES = [
  'authorization', 'x-forwarded-for', 'forwarded', 'origin', 'x-graphql-yoga-csrf', 'cookie', 'x-request-id', 'traceparent',
  'tracestate', 'content-encoding', 'accept-encoding', 'x-real-ip', 'referer', 'user-agent', 'x-apollo-operation-name',
  'apollo-require-preflight', 'graphql-require-preflight', 'if-none-match', 'range', 'x-http-method-override',
];

/** Extra request headers: odd values, well-known names, and some too large for a server to accept. */
export const extraHeaders = fc.array(
  fc.tuple(
    fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...HEADER_NAMES) }, fc.stringMatching(/^x-[a-z0-9-]{1,20}$/)),
    fc.oneof(
      { weight: 5, arbitrary: headerText(80) },
      fc.constantFrom('Bearer x', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'gzip', 'deflate', 'br', 'identity, gzip', 'null', 'https://evil.example'),
      // Proxy headers: the fuzzed gateway trusts its loopback peer as a proxy, so these are parsed.
      fc.constantFrom(
        '1.2.3.4, 5.6.7.8', '1.2.3.4, , ,', '::ffff:1.2.3.4', 'unknown', '999.999.1.1', '[::1]:80', '1.2.3.4:5', ',', '',
        'for=1.2.3.4;proto=https', 'for="[2001:db8::1]:4711"', 'for=unknown', 'for=_hidden', 'for=1.2.3.4, for=5.6.7.8',
        'for="', 'for=', 'by=x;for=y;proto=z;host=h', 'for=1.2.3.4;for=5.6.7.8', 'FOR=1.2.3.4', 'for="\\"', 'for=1.2.3.4,,for=',
      ),
      fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('unknown', '_x', '')), { maxLength: 30 }).map((hops) => hops.join(', ')),
      fc.array(fc.oneof(fc.ipV4(), fc.ipV6().map((a) => `"[${a}]"`), headerText(10)), { maxLength: 20 }).map((hops) => hops.map((h) => `for=${h}`).join(', ')),
      repeat('A', 4_000, 20_000),
    ),
  ),
  { maxLength: 6 },
);

export const method = fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'GET', 'HEAD'));

/** A GET on /graphql (or elsewhere) with hostile parameters, some not even valid percent-encoding. */
export const getPath = (ids: readonly string[]) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record(
          {
            query: queryText(ids).map((q) => `query=${encodeURIComponent(q)}`),
            variables: fc.oneof(jsonText(ids).map((v) => `variables=${encodeURIComponent(v)}`), fc.constantFrom('variables=%7B', 'variables=%', 'variables=%E0%A4%A', 'variables', 'variables=&variables=1')),
            operationName: anyText(20).map((s) => `operationName=${encodeURIComponent(s)}`),
            extensions: fc.oneof({ weight: 3, arbitrary: jsonText(ids) }, apqExtensionText(ids)).map((v) => `extensions=${encodeURIComponent(v)}`),
            documentId: documentIdText(ids).map((v) => `documentId=${encodeURIComponent(v.startsWith('"') ? (JSON.parse(v) as string) : v)}`),
            extra: fc.constantFrom('query=1', 'query=', '&&&', 'a=%ZZ', '%', '__proto__=1', 'query[]=x'),
          },
          { requiredKeys: ['query'] },
        )
        .map((params) => `/graphql?${Object.values(params).join('&')}`),
    },
    fc.constantFrom(
      '/', '/health', '/ready', '/metrics', '/graphql', '/graphql/', '//graphql', '/graphql/../graphql', '/%2e%2e/graphql',
      '/graphql%00', '/status-page/x', '/prove-emulator/v3/unify', '/prove-emulator/sim/users', '/favicon.ico', '/graphql?',
      '/graphql?query=%7B__typename%7D&variables=%7B', '/graphql#x', '/..%2f..%2fetc%2fpasswd', '/graphql;x', '/GRAPHQL',
    ),
    repeat('a', 100, 20_000).map((s) => `/graphql?query=${s}`),
  );

/** Raw bytes on a socket: broken request lines, lying Content-Lengths, bad chunked encoding. */
export const rawRequest = fc.oneof(
  fc.constantFrom(
    'GET /graphql HTTP/1.0\r\n\r\n',
    'GET /graphql HTTP/9.9\r\nHost: x\r\n\r\n',
    'FOO /graphql HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"q"}',
    'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}',
    'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
    'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}',
    'GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x\r\n\r\n',
    '\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n',
    'GET / HTTP/1.1\r\n: empty-name\r\n\r\n',
  ),
  anyText(200).map((s) => `${s}\r\n\r\n`),
  fc.tuple(fc.constantFrom('GET', 'POST', 'PUT'), anyText(40), headerText(100)).map(([m, p, h]) => `${m} /${p} HTTP/1.1\r\nHost: x\r\nX-Junk: ${h}\r\n\r\n`),
);

/** One graphql-ws frame from a hostile client. `next` is the protocol violation the server must close 4400 for. */
export type WsFrame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: number } | { kind: 'duplicate'; text: string };

const wsId = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('"1"', '"2"', '"a"') },
  fc.constantFrom('""', '1', 'null', '[]', '{}', 'true'),
  anyText(20).map((s) => JSON.stringify(s)),
  repeat('i', 200, 20_000).map((s) => JSON.stringify(s)),
);

export const wsFrame = (ids: readonly string[]): fc.Arbitrary<WsFrame> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record(
          {
            id: wsId,
            query: fc.oneof({ weight: 4, arbitrary: queryText(ids).map((q) => JSON.stringify(q)) }, jsonText(ids), fc.constant('""')),
            variables: jsonText(ids),
            extensions: fc.oneof({ weight: 3, arbitrary: jsonText(ids) }, apqExtensionText(ids)),
            documentId: documentIdText(ids),
          },
          { requiredKeys: ['id', 'query'] },
        )
        .map(({ id, query, variables, extensions, documentId }) => ({
          kind: 'text' as const,
          text: `{"id":${id},"type":"subscribe","payload":{"query":${query}${variables ? `,"variables":${variables}` : ''}${extensions ? `,"extensions":${extensions}` : ''}${documentId ? `,"documentId":${documentId}` : ''}}}`,
        })),
    },
    {
      weight: 2,
      arbitrary: flowIdText(ids).map((flowId) => ({ kind: 'duplicate' as const, text: JSON.stringify({ id: 'dup', type: 'subscribe', payload: { query: WATCH, variables: { flowId } } }) })),
    },
    wsId.map((id) => ({ kind: 'text' as const, text: `{"id":${id},"type":"complete"}` })),
    fc.constantFrom('next', 'error').map((type) => ({ kind: 'text' as const, text: JSON.stringify({ id: '1', type, payload: type === 'next' ? { data: {} } : [{ message: 'x' }] }) })),
    jsonText(ids).map((payload) => ({ kind: 'text' as const, text: `{"type":"ping","payload":${payload}}` })),
    fc.constantFrom('pong', 'connection_init', 'connection_ack', 'unknown', '', 'subscribe').map((type) => ({ kind: 'text' as const, text: JSON.stringify({ type }) })),
    jsonText(ids).map((text) => ({ kind: 'text' as const, text })),
    anyText(40).map((text) => ({ kind: 'text' as const, text })),
    fc.integer({ min: 1, max: 80_000 }).map((bytes) => ({ kind: 'binary' as const, bytes })),
    fc.integer({ min: 64 * 1024, max: 100 * 1024 }).map((n) => ({ kind: 'text' as const, text: JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ __typename }${' '.repeat(n)}` } }) })),
  );

/** A graphql-ws session: what connection_init carries (or none at all), then a few frames. */
export const wsSession = (ids: readonly string[]) =>
  fc.record({
    init: fc.oneof(
      { weight: 6, arbitrary: fc.constant('{"type":"connection_init","payload":{}}') },
      jsonText(ids).map((payload) => `{"type":"connection_init","payload":${payload}}`),
      fc.constantFrom('{"type":"connection_init"}', '{"type":"connection_init","payload":null}', '{"type":"connection_init","payload":{"authorization":"Bearer nope"}}', '{"type":"connection_init","payload":[]}'),
      fc.constant(undefined),
    ),
    frames: fc.array(wsFrame(ids), { minLength: 1, maxLength: 5 }),
    headers: fc.oneof({ weight: 3, arbitrary: fc.constant([] as [string, string][]) }, extraHeaders),
  });

/** An SSE subscription (POST or GET, Accept: text/event-stream) with hostile members. */
export const sseRequest = (ids: readonly string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ method: fc.constant('POST' as const), body: postBody(ids), path: fc.constant('/graphql') }) },
    { weight: 3, arbitrary: flowIdText(ids).map((flowId) => ({ method: 'POST' as const, body: JSON.stringify({ query: WATCH, variables: { flowId } }), path: '/graphql' })) },
    { weight: 2, arbitrary: getPath(ids).map((path) => ({ method: 'GET' as const, body: undefined, path })) },
  );
