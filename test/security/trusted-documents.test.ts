import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { print, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import WebSocket from 'ws';
import { CSRF_HEADERS } from '../../src/graphql/yoga.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { FlowDocument, StartUnifyDocument, WatchStatusDocument } from '../generated/graphql.js';

/**
 * Trusted documents on every transport: the thin JSON transport's POST, yoga's POST, GET and SSE,
 * and graphql-ws. A request may
 * name a document of the manifest by `documentId` or by the APQ extension; with
 * TRUSTED_DOCUMENTS_ONLY nothing else runs, whichever transport carries it. Hostile ids are typed
 * 400s (or graphql-ws error messages), never a 500 or a crash.
 */

const MANIFEST = fileURLToPath(new URL('../generated/persisted-documents.json', import.meta.url));
const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
const idOf = (document: DocumentNode) => (document as unknown as { __meta__: { hash: string } }).__meta__.hash;
const textOf = (document: DocumentNode) => manifest[idOf(document)]!;
const apq = (document: DocumentNode) => ({ persistedQuery: { version: 1, sha256Hash: idOf(document).replace(/^sha256:/, '') } });
const UNKNOWN_HASH = 'f'.repeat(64);

interface Answer {
  status: number;
  body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** Which transport answers a plain POST: the thin JSON transport takes one `Accept` value, yoga's HTTP layer a list. */
type Via = 'http-json' | 'yoga';
const ACCEPT: Record<Via, string> = {
  'http-json': 'application/graphql-response+json',
  yoga: 'application/graphql-response+json, application/json;q=0.9',
};

async function post(gw: TestGateway, body: unknown, via: Via = 'http-json'): Promise<Answer> {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT[via] },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

async function get(gw: TestGateway, params: Record<string, unknown>): Promise<Answer> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) query.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  const res = await fetch(`${gw.graphqlUrl}?${query}`, { headers: { accept: 'application/graphql-response+json', [CSRF_HEADERS[0]!]: '1' } });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** An SSE subscription's first event (or the answer that refused it). */
async function sse(gw: TestGateway, body: unknown): Promise<Answer> {
  const abort = new AbortController();
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  try {
    if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { status: res.status, body: (await res.json()) as Answer['body'] };
    const reader = res.body!.getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended without an event: ${text}`);
      text += Buffer.from(value).toString('utf8');
      const data = /^data: (.+)$/m.exec(text);
      if (data) return { status: res.status, body: JSON.parse(data[1]!) as Answer['body'] };
    }
  } finally {
    abort.abort();
  }
}

/** One graphql-ws operation on a raw socket (so a payload may hold what a client library would refuse): its first answer. */
async function ws(gw: TestGateway, payload: Record<string, unknown>): Promise<Answer> {
  const socket = new WebSocket(gw.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  try {
    const messages: { type: string; id?: string; payload?: any }[] = [];
    let wake = () => {};
    socket.on('message', (data) => (messages.push(JSON.parse(String(data))), wake()));
    const next = (type: string[]) =>
      new Promise<{ type: string; payload?: any }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} in ${JSON.stringify(messages)}`)), 10_000);
        wake = () => {
          const found = messages.find((m) => type.includes(m.type));
          if (found) (clearTimeout(timer), resolve(found));
        };
        wake();
      });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await next(['connection_ack']);
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '', ...payload } }));
    const answer = await next(['next', 'error']);
    return answer.type === 'next' ? { status: 200, body: answer.payload } : { status: 0, body: { errors: answer.payload } };
  } finally {
    socket.close();
  }
}

const codeOf = (answer: Answer) => answer.body.errors?.[0]?.extensions?.code;

/** The parse and validate calls yoga's caches let through, per document text: each document is parsed and validated once. */
function countingPlugin() {
  const parsed = new Map<string, number>();
  const validated = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const plugin: Plugin = {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => (bump(parsed, typeof source === 'string' ? source : source.body), parseFn(source, options)));
    },
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((schema, document, ...rest) => (bump(validated, document.loc?.source.body ?? ''), validateFn(schema, document, ...rest)));
    },
  };
  return { plugin, parsed, validated };
}

describe('trusted documents, texts allowed', () => {
  let gw: TestGateway;
  const counting = countingPlugin();
  let servedByHttpJson = 0;
  beforeAll(async () => {
    gw = await startGateway({ TRUSTED_DOCUMENTS: MANIFEST }, { plugins: [counting.plugin], httpJson: { onServed: () => servedByHttpJson++ } });
  });
  afterAll(() => gw?.close());

  it('runs a document by documentId and by APQ hash on POST, GET, SSE and graphql-ws, each parsed and validated once', async () => {
    const start = await post(gw, { documentId: idOf(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } });
    expect(start.status).toBe(200);
    const id = start.body.data.startUnify.flow.id as string;
    const byId = { documentId: idOf(FlowDocument), variables: { id } };
    const byHash = { extensions: apq(FlowDocument), variables: { id } };
    const before = servedByHttpJson;
    const thin = [await post(gw, byId), await post(gw, byId), await post(gw, byHash)];
    expect(servedByHttpJson - before).toBe(3);
    const answers = [
      ...thin,
      await post(gw, byId, 'yoga'), await post(gw, byHash, 'yoga'),
      await get(gw, byId), await get(gw, byHash),
      await ws(gw, byId), await ws(gw, byHash),
      // The bare hex form of the id, and the id beside its own text, are the same document.
      await post(gw, { ...byId, documentId: idOf(FlowDocument).replace(/^sha256:/, '') }),
      await post(gw, { ...byId, query: textOf(FlowDocument) }),
    ];
    for (const answer of answers) {
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.flow.id).toBe(id);
    }
    const watch = await sse(gw, { documentId: idOf(WatchStatusDocument), variables: { flowId: id } });
    expect(watch.body.data.unifyStatus.flow.state).toBe('PENDING');
    const watchWs = await ws(gw, { extensions: apq(WatchStatusDocument), variables: { flowId: id } });
    expect(watchWs.body.data.unifyStatus.flow.state).toBe('PENDING');

    expect(counting.parsed.get(textOf(FlowDocument))).toBe(1);
    expect(counting.validated.get(textOf(FlowDocument))).toBe(1);
    expect(counting.parsed.get(textOf(WatchStatusDocument))).toBe(1);
    expect(counting.validated.get(textOf(WatchStatusDocument))).toBe(1);
  });

  it('an APQ hash sent with its own text runs it (not in the manifest, texts allowed)', async () => {
    const text = '{ __typename }';
    const { sha256Hex } = await import('../../src/graphql/trusted-documents.js');
    const answer = await post(gw, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(text) } } });
    expect(answer).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });

  const hostile: [string, () => Record<string, unknown>, string][] = [
    ['an unknown id', () => ({ documentId: `sha256:${UNKNOWN_HASH}` }), 'PERSISTED_QUERY_NOT_FOUND'],
    ['the APQ hash of an unknown document', () => ({ extensions: { persistedQuery: { version: 1, sha256Hash: UNKNOWN_HASH } } }), 'PERSISTED_QUERY_NOT_FOUND'],
    ['an id with another text', () => ({ documentId: idOf(FlowDocument), query: '{ __typename }' }), 'DOCUMENT_ID_MISMATCH'],
    ['an APQ hash with another text', () => ({ extensions: apq(FlowDocument), query: '{ __typename }' }), 'DOCUMENT_ID_MISMATCH'],
    ['an id and an APQ hash that differ', () => ({ documentId: idOf(FlowDocument), extensions: apq(StartUnifyDocument) }), 'DOCUMENT_ID_MISMATCH'],
    ['a huge id', () => ({ documentId: 'a'.repeat(20_000) }), 'DOCUMENT_ID_INVALID'],
    ['a numeric id', () => ({ documentId: 12345 }), 'DOCUMENT_ID_INVALID'],
    ['an object id', () => ({ documentId: { toString: 'x' } }), 'DOCUMENT_ID_INVALID'],
    ['an APQ extension of another version', () => ({ extensions: { persistedQuery: { version: 2, sha256Hash: UNKNOWN_HASH } } }), 'DOCUMENT_ID_INVALID'],
    ['an APQ hash that is not a string', () => ({ extensions: { persistedQuery: { version: 1, sha256Hash: ['x'] } } }), 'DOCUMENT_ID_INVALID'],
    ['neither a text nor an id', () => ({ variables: {} }), 'DOCUMENT_REQUIRED'],
  ];
  it.each(hostile)('%s: a typed 400 on POST (both transports) and SSE, an error message on graphql-ws', async (_, body, code) => {
    const params = { variables: { id: 'x' }, ...body() };
    for (const answer of [await post(gw, params), await post(gw, params, 'yoga'), await sse(gw, params)]) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(codeOf(answer)).toBe(code);
    }
    expect(codeOf(await ws(gw, params))).toBe(code);
  });

  it('a GET with a huge or unknown documentId is a typed 400', async () => {
    expect(await get(gw, { documentId: 'a'.repeat(5_000) })).toMatchObject({ status: 400, body: { errors: [{ extensions: { code: 'DOCUMENT_ID_INVALID' } }] } });
    expect(await get(gw, { documentId: UNKNOWN_HASH })).toMatchObject({ status: 400, body: { errors: [{ message: 'PersistedQueryNotFound' }] } });
  });
});

describe('TRUSTED_DOCUMENTS_ONLY=on', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ TRUSTED_DOCUMENTS: MANIFEST, TRUSTED_DOCUMENTS_ONLY: 'on' });
  });
  afterAll(() => gw?.close());

  it('refuses a text outside the manifest on POST, GET, SSE and graphql-ws, before anything runs', async () => {
    await gw.sim.resetStats();
    // The manifest's operation, printed otherwise: not the same text, so not trusted.
    const start = await post(gw, { query: print(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } });
    expect(start.status).toBe(400);
    expect(codeOf(start)).toBe('TRUSTED_DOCUMENTS_ONLY');
    expect((await gw.sim.stats()).calls['/v3/unify'] ?? 0).toBe(0);
    const text = { query: '{ __typename }' };
    const watch = { query: print(WatchStatusDocument), variables: { flowId: 'x' } };
    for (const answer of [await post(gw, text), await post(gw, text, 'yoga'), await get(gw, text), await sse(gw, watch)]) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(codeOf(answer)).toBe('TRUSTED_DOCUMENTS_ONLY');
      expect(answer.body.data).toBeUndefined();
    }
    expect(codeOf(await ws(gw, text))).toBe('TRUSTED_DOCUMENTS_ONLY');
    expect(codeOf(await ws(gw, watch))).toBe('TRUSTED_DOCUMENTS_ONLY');
  });

  it('runs manifest documents, by id or as their exact text, on every transport', async () => {
    const start = await post(gw, { documentId: idOf(StartUnifyDocument), variables: { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } } });
    const id = start.body.data.startUnify.flow.id as string;
    for (const answer of [
      await post(gw, { query: textOf(FlowDocument), variables: { id } }),
      await post(gw, { documentId: idOf(FlowDocument), variables: { id } }, 'yoga'),
      await get(gw, { documentId: idOf(FlowDocument), variables: { id } }),
      await ws(gw, { documentId: idOf(FlowDocument), variables: { id } }),
      await ws(gw, { query: textOf(FlowDocument), variables: { id } }),
    ]) {
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.flow.id).toBe(id);
    }
    const watch = await sse(gw, { extensions: apq(WatchStatusDocument), variables: { flowId: id } });
    expect(watch.body.data.unifyStatus.flow.state).toBe('PENDING');
  });
});

describe('TRUSTED_DOCUMENTS configuration', () => {
  it('a missing, malformed or tampered manifest, or ONLY without one, stops the start naming the variable', async () => {
    const { problemsOf } = await import('../support/config-problems.js');
    expect(problemsOf({ TRUSTED_DOCUMENTS: '/nonexistent/manifest.json' })).toEqual([expect.stringMatching(/^TRUSTED_DOCUMENTS: .*no such file/)]);
    expect(problemsOf({ TRUSTED_DOCUMENTS_ONLY: 'on' })).toEqual([expect.stringMatching(/^TRUSTED_DOCUMENTS_ONLY: on needs TRUSTED_DOCUMENTS/)]);
    expect(problemsOf({ TRUSTED_DOCUMENTS_ONLY: 'yes' })).toEqual([expect.stringMatching(/^TRUSTED_DOCUMENTS_ONLY: must be on or off/)]);
    expect(problemsOf({ TRUSTED_DOCUMENT: MANIFEST })).toEqual([expect.stringMatching(/^TRUSTED_DOCUMENT: is not a setting/)]);
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(`${(await import('node:os')).tmpdir()}/manifest-`);
    writeFileSync(`${dir}/tampered.json`, JSON.stringify({ [idOf(FlowDocument)]: '{ __typename }' }));
    writeFileSync(`${dir}/array.json`, '[]');
    expect(problemsOf({ TRUSTED_DOCUMENTS: `${dir}/tampered.json` })).toEqual([expect.stringMatching(/is not the sha256 of its document/)]);
    expect(problemsOf({ TRUSTED_DOCUMENTS: `${dir}/array.json` })).toEqual([expect.stringMatching(/not a manifest/)]);
  });
});
