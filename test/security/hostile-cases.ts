import { randomBytes } from 'node:crypto';
import { print } from 'graphql';
import { BindPhoneDocument, FlowDocument, StartUnifyDocument, UnifyStatusDocument, WatchStatusDocument } from '../generated/graphql.js';

/**
 * The hostile-input suite's catalogue (test/security/hostile.test.ts runs it): each case is an
 * operation, who sends it, and what a client must get back. The flow-id and other-caller cases are
 * made from the victims' flows the suite starts first.
 */

export const START = print(StartUnifyDocument);
export const STATUS = print(UnifyStatusDocument);
export const FLOW = print(FlowDocument);
export const BIND = print(BindPhoneDocument);
export const WATCH = print(WatchStatusDocument);

export type Expect =
  /** data[root] is this typed error (and names this field). */
  | { typed: string; field?: string }
  /** The operation is refused outright: GraphQL errors (or a 4xx), with words matching. */
  | { refused: RegExp }
  /** data.flow is null: no flow has this id. */
  | { none: true };

export interface Case {
  family: string;
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  trusted?: boolean;
  root: string;
  expect: Expect;
}

/** A flow started before the attack, which no attack may change. */
export interface Victim {
  id: string;
  authToken: string;
  phoneNumber: string;
  clientRequestId: string;
}

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

export function phoneCases(): Case[] {
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

export function smsCases(): Case[] {
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

export function urlCases(): Case[] {
  const cases = URLS_HOSTILE.map((finalTargetUrl) =>
    startCase('finalTargetUrl', `DESKTOP ${JSON.stringify(finalTargetUrl).slice(0, 50)}`, { possessionType: 'DESKTOP', phoneNumber: '2001004014', finalTargetUrl }, { typed: 'InvalidInputError', field: 'finalTargetUrl' }),
  );
  for (const possessionType of ['MOBILE', 'NONE']) {
    cases.push(startCase('finalTargetUrl', `${possessionType} with a link`, { possessionType, phoneNumber: '2001004014', finalTargetUrl: 'https://evil.example/x' }, { typed: 'InvalidInputError', field: 'finalTargetUrl' }));
  }
  return cases;
}

export function identifierCases(): Case[] {
  const cases: Case[] = [];
  const values = ['', ' ', 'a b', 'x'.repeat(129), 'x'.repeat(40_000), '\u00fc', '\u0000', 'id\n', '\u202eid', '😀', 'id\u200b'];
  for (const field of ['deviceId', 'clientCustomerId', 'clientHumanId', 'clientRequestId']) {
    for (const value of values) {
      cases.push(startCase('identifier', `${field} ${JSON.stringify(value).slice(0, 30)}`, { possessionType: 'MOBILE', phoneNumber: '2001004014', [field]: value }, { typed: 'InvalidInputError', field }));
    }
  }
  return cases;
}

export function structuralCases(): Case[] {
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

export function queryCases(): Case[] {
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

export function idCases(victims: Record<string, Victim>, correlationIds: Iterable<string>): Case[] {
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
    ...[...correlationIds].slice(0, 2).map((id, i) => [`correlationId ${i}`, id] as [string, string]),
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

export function otherCallerCases(victims: Record<string, Victim>): Case[] {
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
