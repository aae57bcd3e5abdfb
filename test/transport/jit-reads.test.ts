import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { started, status } from '../support/flows.js';
import { flowKey } from '../../src/store/flow-repository.js';
import { createStore, type Store } from '../../src/store/redis-store.js';
import { FlowDocument } from '../generated/graphql.js';

/**
 * `flow(id)` reads run as graphql-jit compiles them (src/graphql/jit-reads.ts) and must answer
 * exactly as graphql-js does. A root field with a directive never takes jit, so the same read
 * with `@include(if: true)` on its field is graphql-js's answer: both must be the same text, for
 * flows in every state, both callers, unknown ids, and a record whose resolvers throw (jit's
 * answer with errors is replaced by graphql-js's).
 */

let gw: TestGateway;
let store: Store;
const JIT = print(FlowDocument);
const GRAPHQL_JS = JIT.replace('flow(id: $id)', 'flow(id: $id) @include(if: true)');
const trusted = { authorization: `Bearer ${TEST_API_KEY}` };

beforeAll(async () => {
  store = createStore(undefined);
  gw = await startGateway({}, { store });
});
afterAll(async () => {
  await gw?.close();
  await store?.close();
});

async function text(query: string, id: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables: { id } }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}

async function sameAnswer(id: string) {
  for (const headers of [{}, trusted]) {
    const jit = await text(JIT, id, headers);
    expect(jit).toEqual(await text(GRAPHQL_JS, id, headers));
  }
  return JSON.parse((await text(JIT, id, trusted)).body) as { data: { flow: { state: string } | null }; errors?: unknown[] };
}

describe('flow(id) through graphql-jit answers as graphql-js', () => {
  it('pending, verified, failed, unknown', async () => {
    expect(GRAPHQL_JS).not.toBe(JIT);
    const pending = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    expect((await sameAnswer(pending.flow.id)).data.flow?.state).toBe('PENDING');
    const verified = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
    await status(gw, verified.flow.id);
    expect((await sameAnswer(verified.flow.id)).data.flow?.state).toBe('VERIFIED');
    // 2001004016 fails possession: failure reasons are part of the answer.
    const failed = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004016' });
    await status(gw, failed.flow.id);
    const answer = await sameAnswer(failed.flow.id);
    expect(answer.data.flow?.state).toEqual(expect.any(String));
    expect((await sameAnswer('no-such-flow')).data.flow).toBeNull();
  });

  it('a record whose resolvers throw: the same masked error', async () => {
    const flow = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const key = `flow:${flowKey(flow.flow.id)}`;
    const record = await store.keyv.get<Record<string, unknown>>(key);
    await store.keyv.set(key, { ...record, evaluation: 'corrupt' }, 60_000);
    const answer = await sameAnswer(flow.flow.id);
    expect(answer.errors?.length).toBeGreaterThan(0);
    expect(JSON.stringify(answer)).toContain('Unexpected error.');
  });
});
