import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { BindPhoneDocument, FlowDocument, StartUnifyDocument, UnifyStatusDocument, WatchStatusDocument } from '../generated/graphql.js';
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

const START = print(StartUnifyDocument);
const STATUS = print(UnifyStatusDocument);
const FLOW = print(FlowDocument);
const BIND = print(BindPhoneDocument);
const WATCH = print(WatchStatusDocument);

type Expect =
  /** data[root] is this typed error (and names this field). */
  | { typed: string; field?: string }
  /** The operation is refused outright: GraphQL errors (or a 4xx), with words matching. */
  | { refused: RegExp }
  /** data.flow is null: no flow has this id. */
  | { none: true };

interface Case {
  family: string;
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  trusted?: boolean;
  root: string;
  expect: Expect;
}

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
const victims: Record<string, { id: string; authToken: string; phoneNumber: string; clientRequestId: string }> = {};
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
// The generated cases

const startCase = (family: string, name: string, input: Record<string, unknown>, expected: Expect, trusted = false): Case => ({
  family, name, query: START, variables: { input }, root: 'startUnify', expect: expected, trusted,
});

const PHONES_MALFORMED = [
  '', ' ', 'abc', '+', '++12001004014', '12', '1'.repeat(33), '2001004014 ext. 5', '2001004014#', '2001004014;',
  '<script>alert(1)</script>', "' OR 1=1 --", '${7*7}', '../../etc/passwd', '\u0000', '2001004014\u0000', '2001004014\nX',
  '\u202e4104001002', '２００１００４０１４', '٢٠٠١٠٠٤٠١٤', '𝟐𝟎𝟎𝟏𝟎𝟎𝟒𝟎𝟏𝟒', `+1 (200) 100-4014${'9'.repeat(5000)}`, '0000000000',
  '+0 200 100 4014', '911', '112', '+1 555 0100', '+1 200 100 401\u200b4', '2001\ufeff004014', '+1\t2001004014',
];
const PHONES_PREMIUM = [
  '+1 900 555 0100', '+1 800 555 0100', '+1 888 555 0100', '+44 909 879 0000', '+44 845 464 0000', '+33 8 99 12 34 56',
  '+49 900 1234567', '+979 123456789', '+808 12345678', '+800 1234 5678', '+882 1234 5678', '+61 1900 123 456',
];
const PHONES_FOREIGN = [
  '+44 7400 123456', '+33 6 12 34 56 78', '+49 1512 3456789', '+91 98765 43210', '+86 131 2345 6789', '+7 912 345-67-89',
  '+234 803 123 4567', '+1 876 555 0123', '+52 55 1234 5678', '+81 90-1234-5678', '+55 11 91234-5678', '+371 2123 4567',
];

function phoneCases(): Case[] {
  const cases: Case[] = [];
  const all = [...PHONES_MALFORMED.map((p) => ['malformed', p]), ...PHONES_PREMIUM.map((p) => ['premium', p]), ...PHONES_FOREIGN.map((p) => ['foreign', p])];
  for (const [kind, phoneNumber] of all) {
    for (const possessionType of ['MOBILE', 'DESKTOP', 'NONE']) {
      cases.push(
        startCase(`phone:${kind}`, `${possessionType} ${JSON.stringify(phoneNumber).slice(0, 40)}`, {
          possessionType,
          phoneNumber,
          ...(possessionType === 'DESKTOP' ? { finalTargetUrl: 'https://example.com/done' } : {}),
        }, { typed: 'InvalidInputError', field: 'phoneNumber' }),
      );
    }
  }
  return cases;
}

const SMS_HOSTILE: [string, string][] = [
  ['161 characters', `${'a'.repeat(157)}####`],
  ['10k characters', `${'x'.repeat(10_000)}####`],
  ['50k characters', `${'x'.repeat(50_000)}####`],
  ['161 emoji', `${'😀'.repeat(157)}####`],
  ['combining flood', `a${'\u0301'.repeat(200)}####`],
  ['empty', ''],
  ['NUL', '\u0000Code ####'],
  ['BEL', 'Code ####\u0007'],
  ['ANSI escape', '\u001b[31mCode ####'],
  ['CR LF', 'Code\r\n####'],
  ['tab', 'Code\t####'],
  ['DEL', '\u007f####'],
  ['C1 NEL', '\u0085####'],
  ['RLO', '\u202eCode ####'],
  ['LRI/PDI', '\u2066####\u2069'],
  ['ZWSP', 'Co\u200bde ####'],
  ['ZWJ', 'Code\u200d####'],
  ['BOM', '\ufeff####'],
  ['tag characters', '####\u{E0041}\u{E0042}'],
  ['lone high surrogate', '####\ud800'],
  ['lone low surrogate', '####\udc00'],
  ['soft hyphen', 'Co\u00adde ####'],
  ['line separator', 'Code\u2028####'],
  ['paragraph separator', 'Code\u2029####'],
  ['private use', '\ue000####'],
  ['Hangul filler', '\u3164####'],
  ['Mongolian vowel separator', 'Code\u180e####'],
  ['interlinear annotation', '\ufff9Code\ufffb####'],
  ['word joiner', 'Code\u2060####'],
  ['ALM', '\u061cCode ####'],
];

function smsCases(): Case[] {
  const cases: Case[] = [];
  for (const [name, smsMessage] of SMS_HOSTILE) {
    // Trusted: only API-key callers may word the SMS at all, so the character rules are tested there.
    cases.push(startCase('smsMessage', `MOBILE ${name}`, { possessionType: 'MOBILE', phoneNumber: '2001004014', smsMessage }, { typed: 'InvalidInputError', field: 'smsMessage' }, true));
    cases.push(startCase('smsMessage', `DESKTOP ${name}`, { possessionType: 'DESKTOP', phoneNumber: '2001004014', finalTargetUrl: 'https://example.com/done', smsMessage }, { typed: 'InvalidInputError', field: 'smsMessage' }, true));
    cases.push(startCase('smsMessage', `public ${name}`, { possessionType: 'MOBILE', phoneNumber: '2001004014', smsMessage }, { typed: 'InvalidInputError', field: 'smsMessage' }));
  }
  for (const smsMessage of ['Your code', '#### and ####', '### only three']) {
    cases.push(startCase('smsMessage', `MOBILE placeholder ${smsMessage}`, { possessionType: 'MOBILE', phoneNumber: '2001004014', smsMessage }, { typed: 'InvalidInputError', field: 'smsMessage' }, true));
  }
  return cases;
}

const URLS_HOSTILE = [
  'javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:msgbox', 'file:///etc/passwd', 'ftp://example.com/x',
  '//evil.example/x', 'http://', 'https://', 'https://\u0430pple.com/', 'https://example.com/\u202egpj.exe', 'https://exa\u200bmple.com/',
  'https://example.com/<script>', 'https://example.com/ a', 'https://example.com/\r\nLocation: https://evil.example',
  'https://example.com/%0d%0a', 'https://user:pass@evil.example/', 'https://example.com/#fragment', 'https://example.com/\'"',
  '\uff48\uff54\uff54\uff50\uff53://example.com', 'HTTPS://EXAMPLE.COM/', `https://example.com/${'a'.repeat(120)}`, 'x'.repeat(50_000),
  'https://\u4f8b\u3048.jp/', 'https://example.com/\u0000', 'https://example.com/\ud800', 'evil.example', '',
];

function urlCases(): Case[] {
  const cases = URLS_HOSTILE.map((finalTargetUrl) =>
    startCase('finalTargetUrl', `DESKTOP ${JSON.stringify(finalTargetUrl).slice(0, 50)}`, { possessionType: 'DESKTOP', phoneNumber: '2001004014', finalTargetUrl }, { typed: 'InvalidInputError', field: 'finalTargetUrl' }),
  );
  for (const possessionType of ['MOBILE', 'NONE']) {
    cases.push(startCase('finalTargetUrl', `${possessionType} with a link`, { possessionType, phoneNumber: '2001004014', finalTargetUrl: 'https://evil.example/x' }, { typed: 'InvalidInputError', field: 'finalTargetUrl' }));
  }
  return cases;
}

function identifierCases(): Case[] {
  const cases: Case[] = [];
  const values = ['', ' ', 'a b', 'x'.repeat(129), 'x'.repeat(40_000), '\u00fc', '\u0000', 'id\n', '\u202eid', '😀', 'id\u200b'];
  for (const field of ['deviceId', 'clientCustomerId', 'clientHumanId', 'clientRequestId']) {
    for (const value of values) {
      cases.push(startCase('identifier', `${field} ${JSON.stringify(value).slice(0, 30)}`, { possessionType: 'MOBILE', phoneNumber: '2001004014', [field]: value }, { typed: 'InvalidInputError', field }));
    }
  }
  return cases;
}

function structuralCases(): Case[] {
  const refused = { refused: /./ };
  const startWith = (name: string, variables: Record<string, unknown>): Case => ({ family: 'variables', name, query: START, variables, root: 'startUnify', expect: refused });
  const deep = (n: number): unknown => (n === 0 ? 'x' : { a: deep(n - 1) });
  return [
    startWith('input null', { input: null }),
    startWith('input missing', {}),
    startWith('input a string', { input: 'MOBILE' }),
    startWith('input a list', { input: [{ possessionType: 'MOBILE', phoneNumber: '2001004014' }] }),
    startWith('possessionType misspelt', { input: { possessionType: 'MOBIL', phoneNumber: '2001004014' } }),
    startWith('possessionType lower case', { input: { possessionType: 'mobile', phoneNumber: '2001004014' } }),
    startWith('possessionType a number', { input: { possessionType: 1, phoneNumber: '2001004014' } }),
    startWith('possessionType null', { input: { possessionType: null, phoneNumber: '2001004014' } }),
    startWith('possessionType a list', { input: { possessionType: ['MOBILE'], phoneNumber: '2001004014' } }),
    startWith('phoneNumber a number', { input: { possessionType: 'MOBILE', phoneNumber: 2001004014 } }),
    startWith('phoneNumber an object', { input: { possessionType: 'MOBILE', phoneNumber: { $gt: '' } } }),
    startWith('phoneNumber a list', { input: { possessionType: 'MOBILE', phoneNumber: ['2001004014'] } }),
    startWith('rebind a string', { input: { possessionType: 'MOBILE', phoneNumber: '2001004014', rebind: 'yes' } }),
    startWith('unknown field', { input: { possessionType: 'MOBILE', phoneNumber: '2001004014', admin: true } }),
    startWith('__proto__ field', JSON.parse('{"input":{"possessionType":"MOBILE","phoneNumber":"2001004014","__proto__":{"admin":true}}}')),
    startWith('deeply nested input', { input: deep(500) }),
    startWith('huge unused variables', { input: { possessionType: 'MOBIL', phoneNumber: '2001004014' }, pad: 'p'.repeat(50_000) }),
    startWith('many unused variables', Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`v${i}`, i]))),
  ];
}

function queryCases(): Case[] {
  const nest = (n: number, inner: string) => '... on UnifyFlow { '.repeat(n) + inner + ' }'.repeat(n);
  const aliases = (n: number, field = 'flow(id: "x") { id }') => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');
  const fanOut = (levels: number) => {
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on UnifyFlow { id }` : `fragment F${i} on UnifyFlow { ...F${i + 1} ...F${i + 1} }`,
    );
    return `{ flow(id: "x") { ...F0 } } ${fragments.join(' ')}`;
  };
  const q = (name: string, query: string, refused: RegExp, root = 'flow'): Case => ({ family: 'query', name, query, root, expect: { refused } });
  return [
    q('depth 16', `{ flow(id: "x") { ${nest(16, 'id')} } }`, /depth limit/),
    q('depth 40', `{ flow(id: "x") { ${nest(40, 'id')} } }`, /depth limit/),
    q('depth 120', `{ flow(id: "x") { ${nest(120, 'id')} } }`, /depth limit|Token limit/),
    q('11 aliases', `{ ${aliases(11)} }`, /Aliases limit/),
    q('60 aliases', `{ ${aliases(60)} }`, /Aliases limit/),
    q('300 aliases', `{ ${aliases(300)} }`, /Aliases limit|Token limit/),
    q('20 aliased starts', `mutation { ${aliases(20, 'startUnify(input: { possessionType: MOBILE, phoneNumber: "2001004014" }) { __typename }')} }`, /Aliases limit|Token limit/, 'a0'),
    q('11 aliased statuses', `{ ${aliases(11, 'unifyStatus(flowId: "x") { __typename }')} }`, /Aliases limit/, 'a0'),
    q('1000 __typename aliases', `{ ${aliases(1000, '__typename')} }`, /Token limit/),
    q('1500 duplicate fields', `{ flow(id: "x") { ${'id '.repeat(1500)} } }`, /Token limit/),
    q('cost', `{ flow(id: "x") { ${nest(12, 'id '.repeat(60))} } }`, /Cost limit/),
    q('11 directives', `{ flow(id: "x") { id ${'@include(if: true) '.repeat(11)} } }`, /Directives limit/),
    q('200 directives', `{ flow(id: "x") { id ${'@skip(if: false) '.repeat(200)} } }`, /Directives limit|Token limit/),
    q('unknown directives', `{ flow(id: "x") { id ${'@aa '.repeat(50)} } }`, /Directives limit|Unknown directive/),
    q('fragment cycle', '{ flow(id: "x") { ...A } } fragment A on UnifyFlow { ...B } fragment B on UnifyFlow { ...A }', /Cannot spread fragment/),
    q('fragment fan-out 2^40', fanOut(40), /limit/),
    { family: 'query', name: 'huge string literal', query: `{ flow(id: "${'x'.repeat(50_000)}") { id } }`, root: 'flow', expect: { none: true } },
    q('two operations, no name', '{ flow(id: "x") { id } } query B { flow(id: "y") { id } }', /anonymous operation|operation to execute/i),
    q('syntax: open brace', '{', /Syntax Error/),
    q('syntax: double brace', 'query {{ flow }', /Syntax Error/),
    q('syntax: close brace', '}', /Syntax Error/),
    q('syntax: empty', '', /./),
    q('syntax: NUL', '\u0000', /Syntax Error|Invalid character/),
    q('syntax: unterminated string', '{ flow(id: "x) { id } }', /Syntax Error|Unterminated/),
    q('syntax: unclosed', '{ flow(id: "x") { id }', /Syntax Error/),
    q('introspection __schema', '{ __schema { types { name } } }', /introspection/i),
    q('introspection __type', '{ __type(name: "UnifyFlow") { fields { name } } }', /introspection/i),
    q('introspection in a fragment', '{ ...I } fragment I on Query { __schema { queryType { name } } }', /introspection/i),
    q('introspection under an alias', '{ s: __schema { directives { name } } }', /introspection/i),
    q('suggestion probe: flows', '{ flows(id: "x") { id } }', /Cannot query field/),
    q('suggestion probe: stat', '{ flow(id: "x") { stat } }', /Cannot query field/),
    q('suggestion probe: idd', '{ flow(idd: "x") { id } }', /Unknown argument/),
    q('subscription in a mutation', 'mutation { unifyStatus(flowId: "x") { __typename } }', /Cannot query field/),
    q('wrong field on error', '{ unifyStatus(flowId: "x") { ... on FlowNotFoundError { secret } } }', /Cannot query field/, 'unifyStatus'),
    q('correlationId of an error-typed flow', '{ flow(id: "x") { correlationId { id } } }', /must not have a selection/),
    q('missing required argument', '{ flow { id } }', /required/),
    q('variable of the wrong type', 'query($id: Int) { flow(id: $id) { id } }', /Variable/),
    q('undefined variable', '{ flow(id: $nope) { id } }', /not defined/),
  ];
}

function idCases(): Case[] {
  const real = Object.values(victims);
  const flip = (id: string) => (id[0] === 'A' ? 'B' : 'A') + id.slice(1);
  const swapCase = (id: string) => [...id].map((ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');
  const forged: [string, string][] = [
    ...Array.from({ length: 5 }, (_, i) => [`random ${i}`, randomBytes(18).toString('base64url')] as [string, string]),
    ...real.map((v, i) => [`victim ${i} one character changed`, flip(v.id)] as [string, string]),
    ...real.slice(0, 2).map((v, i) => [`victim ${i} case swapped`, swapCase(v.id)] as [string, string]),
    [`victim truncated`, real[0]!.id.slice(0, 23)],
    [`victim extended`, `${real[0]!.id}A`],
    [`victim with a space`, ` ${real[0]!.id}`],
    [`victim with a newline`, `${real[0]!.id}\n`],
    ...[...upstream.seen.correlationIds].slice(0, 2).map((id, i) => [`correlationId ${i}`, id] as [string, string]),
    ...real.slice(0, 2).map((v, i) => [`authToken ${i}`, v.authToken] as [string, string]),
    ...real.slice(0, 2).map((v, i) => [`clientRequestId ${i}`, v.clientRequestId] as [string, string]),
    ['empty', ''], ['long', 'x'.repeat(10_000)], ['path', '../../flows/x'], ['glob', '*'], ['store key glob', 'unify:flow:*'],
    ['null byte', `${real[0]!.id.slice(0, 23)}\u0000`], ['unicode look-alike', `${real[0]!.id.slice(0, 23)}\u0410`],
  ];
  const cases: Case[] = [];
  for (const [name, id] of forged) {
    cases.push({ family: 'flowId', name: `unifyStatus ${name}`, query: STATUS, variables: { flowId: id }, root: 'unifyStatus', expect: { typed: 'FlowNotFoundError' } });
    cases.push({ family: 'flowId', name: `flow ${name}`, query: FLOW, variables: { id }, root: 'flow', expect: { none: true } });
    cases.push({ family: 'flowId', name: `trusted bindPhone ${name}`, query: BIND, variables: { input: { flowId: id, phoneNumber: '2001004014' } }, trusted: true, root: 'bindPhone', expect: { typed: 'FlowNotFoundError' } });
    cases.push({ family: 'flowId', name: `public bindPhone ${name}`, query: BIND, variables: { input: { flowId: id, phoneNumber: '2001004014' } }, root: 'bindPhone', expect: { typed: 'NotAuthorizedError' } });
  }
  return cases;
}

function otherCallerCases(): Case[] {
  const cases: Case[] = [];
  const bindCase = (name: string, flowId: string, phoneNumber: string, trusted: boolean, expected: Expect): Case => ({
    family: 'other callers', name, query: BIND, variables: { input: { flowId, phoneNumber } }, trusted, root: 'bindPhone', expect: expected,
  });
  for (const [key, v] of Object.entries(victims)) {
    cases.push(bindCase(`public bindPhone on ${key}`, v.id, v.phoneNumber, false, { typed: 'NotAuthorizedError' }));
    cases.push(bindCase(`public bindPhone on ${key} with another number`, v.id, '2001004041', false, { typed: 'NotAuthorizedError' }));
  }
  // Binding before possession, or a flow that is not customer-supplied possession.
  for (const key of ['nonePending', 'mobile', 'desktop', 'verified']) {
    cases.push(bindCase(`trusted bindPhone on ${key}`, victims[key]!.id, victims[key]!.phoneNumber, true, { typed: 'BindNotAllowedError' }));
  }
  for (const phoneNumber of ['+1 900 555 0100', '+44 7400 123456', 'abc', '', '2001004015\u0000']) {
    cases.push(bindCase(`trusted bindPhone on noneRequired with ${JSON.stringify(phoneNumber)}`, victims.noneRequired!.id, phoneNumber, true, { typed: 'InvalidInputError', field: 'phoneNumber' }));
  }
  // Someone else's clientRequestId: refused, and nothing of the first flow comes back.
  for (const key of ['mobile', 'desktop']) {
    const v = victims[key]!;
    const input = key === 'desktop'
      ? { possessionType: 'DESKTOP', phoneNumber: '2001004017', finalTargetUrl: 'https://example.com/done', clientRequestId: v.clientRequestId }
      : { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId: v.clientRequestId };
    cases.push(startCase('other callers', `reuse ${key}'s clientRequestId, same input`, input, { typed: 'InvalidInputError', field: 'clientRequestId' }));
    cases.push(startCase('other callers', `reuse ${key}'s clientRequestId, other input`, { ...input, allowOtpRetry: true }, { typed: 'InvalidInputError', field: 'clientRequestId' }));
  }
  cases.push(bindCase('trusted bindPhone with a bad clientRequestId', victims.noneRequired!.id, '2001004015', true, { typed: 'InvalidInputError', field: 'clientRequestId' }));
  cases[cases.length - 1]!.variables = { input: { flowId: victims.noneRequired!.id, phoneNumber: '2001004015', clientRequestId: 'a b' } };
  return cases;
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
    ['forged and guessed flow ids', idCases],
    ["other callers' flows: public bindPhone, bind before possession, clientRequestId reuse", otherCallerCases],
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
