/**
 * Conformance with Prove's documented examples (./documented-examples.ts), both ways:
 * - every documented answer, served over HTTP by the emulator (as an injected reply), is read by
 *   the adapter exactly as expected, and through the gateway means the expected flow state;
 * - every documented request, sent to the emulator, gets an answer whose fields are documented
 *   ones of the documented types (and the sandbox's refusals for ids it does not know).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProveError } from '../../src/prove/index.js';
import { StartUnifyDocument, UnifyStatusDocument } from '../generated/graphql.js';
import { closeEmulators, startEmulator } from '../prove/emulator-fixture.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import {
  ERROR_EXAMPLES, OUTCOME_EXAMPLES, REQUEST_EXAMPLES, RESPONSE_FIELDS, STARTED_EXAMPLES, type JsonType,
} from './documented-examples.js';
import { startEmulator as startRawEmulator, type Harness } from '../emulator/helpers.js';

const CORRELATION_ID = '713189b8-5555-4b08-83ba-75d08780aebd';

afterEach(closeEmulators);

const jsonType = (value: unknown): JsonType | 'number' | 'null' | 'undefined' =>
  value === null ? 'null' : typeof value === 'number' ? 'number' : (typeof value as JsonType);

/** Every field of `body` is a documented field of `endpoint`'s answer, of the documented type. */
function expectDocumentedShape(endpoint: string, body: Record<string, unknown>) {
  const fields = RESPONSE_FIELDS[endpoint]!;
  for (const [key, value] of Object.entries(body)) {
    expect(Object.keys(fields), `${endpoint} answered an undocumented field "${key}"`).toContain(key);
    const want = fields[key]!;
    // Error codes are numbers; the table says "object" for them only to keep JsonType small.
    expect(jsonType(value), `${endpoint}.${key}`).toBe(key === 'code' ? 'number' : want);
  }
}

describe('documented answers, read through the adapter', () => {
  it.each(OUTCOME_EXAMPLES)('unify-status: $name ($source)', async ({ body, read }) => {
    const emu = await startEmulator();
    await emu.fault({ endpoint: '/v3/unify-status', status: 200, body });
    expect(await emu.client.unifyStatus({ correlationId: CORRELATION_ID })).toEqual(read);
  });

  it.each(OUTCOME_EXAMPLES)('unify-bind: $name ($source)', async ({ body, read }) => {
    const emu = await startEmulator();
    await emu.fault({ endpoint: '/v3/unify-bind', status: 200, body });
    expect(await emu.client.unifyBind({ correlationId: CORRELATION_ID, phoneNumber: '2001004011' })).toEqual(read);
  });

  it.each(STARTED_EXAMPLES)('unify: $name ($source)', async ({ body, read }) => {
    const emu = await startEmulator();
    await emu.fault({ endpoint: '/v3/unify', status: 200, body });
    expect(await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004014', clientRequestId: 'r-1' })).toEqual(read);
  });

  it.each(ERROR_EXAMPLES)('error $status $body.code is $kind, with Prove\'s code kept', async ({ status, body, kind }) => {
    const emu = await startEmulator();
    // Twice: a 401 is retried once with a fresh token before it counts.
    await emu.fault({ endpoint: '/v3/unify', status, body, count: 2 });
    const error = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004014', clientRequestId: 'r-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProveError);
    expect(error).toMatchObject({ kind, status, proveCode: body.code });
  });
});

describe('documented answers, through the gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());

  it.each(OUTCOME_EXAMPLES)('unify-status $name means $state, never UpstreamError', async ({ body, state }) => {
    const started = (await gw.gql(StartUnifyDocument, { input: { possessionType: 'NONE', phoneNumber: '2001004014' } })).startUnify;
    if (started.__typename !== 'StartUnifyPayload') throw new Error(started.__typename);
    await gw.sim.fault({ endpoint: '/v3/unify-status', status: 200, body });
    const status = (await gw.gql(UnifyStatusDocument, { flowId: started.flow.id })).unifyStatus;
    expect(status.__typename).not.toBe('UpstreamError');
    const flow = 'flow' in status ? status.flow : undefined;
    expect(flow?.state).toBe(state);
    // Every category is kept, even without a result.
    const categories = Object.keys((body.evaluation as Record<string, unknown> | undefined) ?? {});
    expect(flow?.evaluation.map((e) => e.category).sort()).toEqual(categories.sort());
    for (const e of flow?.evaluation ?? []) expect(e.result).toMatch(/^(pass|fail|unknown)$/);
  });

  it('a unify answer whose success is "success" keeps the flow (the SMS has gone)', async () => {
    await gw.sim.fault({ endpoint: '/v3/unify', status: 200, body: STARTED_EXAMPLES[1]!.body });
    const started = (await gw.gql(StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: '2001004014' } })).startUnify;
    expect(started.__typename).toBe('StartUnifyPayload');
    if (started.__typename === 'StartUnifyPayload') {
      expect(started.flow.state).toBe('PENDING');
      expect(started.authToken).toBe('eyJhbGciOi...');
    }
  });
});

describe('documented requests, against the emulator', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRawEmulator();
  });
  afterAll(() => h.close());

  it('the unify example verbatim: its number is no sandbox user (400 8007), in Prove\'s error shape', async () => {
    const r = await h.api('/v3/unify', REQUEST_EXAMPLES.unify);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(8007);
    expectDocumentedShape('error', r.body);
  });

  it('the unify example with a sandbox number: a documented answer', async () => {
    const r = await h.api('/v3/unify', { ...REQUEST_EXAMPLES.unify, phoneNumber: '2001004014' });
    expect(r.status).toBe(200);
    expect(r.body.success).toBe('pending');
    expectDocumentedShape('/v3/unify', r.body);
  });

  it.each([
    ['with phoneNumber', REQUEST_EXAMPLES.unifyStatus],
    ['without phoneNumber', REQUEST_EXAMPLES.unifyStatusWithoutPhone],
  ])('the unify-status example %s: unknown correlation id 8008 verbatim, a documented answer with a live one', async (_name, example) => {
    const verbatim = await h.api('/v3/unify-status', example);
    expect(verbatim.status).toBe(400);
    expect(verbatim.body.code).toBe(8008);
    expectDocumentedShape('error', verbatim.body);

    const live = await h.start({ ...REQUEST_EXAMPLES.unify, phoneNumber: '2001004018' });
    const r = await h.api('/v3/unify-status', { ...example, correlationId: live.correlationId, phoneNumber: '2001004018' });
    expect(r.status).toBe(200);
    expect(r.body.success).toBe('true');
    expectDocumentedShape('/v3/unify-status', r.body);
  });

  it('the unify-bind example: 8008 verbatim, a documented answer on a none flow that needs binding', async () => {
    const verbatim = await h.api('/v3/unify-bind', REQUEST_EXAMPLES.unifyBind);
    expect(verbatim.status).toBe(400);
    expect(verbatim.body.code).toBe(8008);

    const live = await h.start({ possessionType: 'none', phoneNumber: '2001004014', clientRequestId: REQUEST_EXAMPLES.unifyBind.clientRequestId });
    await h.device(live.authToken);
    expect((await h.status(live.correlationId)).body.success).toBe('possession_required');
    const r = await h.api('/v3/unify-bind', { ...REQUEST_EXAMPLES.unifyBind, correlationId: live.correlationId, phoneNumber: '2001004014' });
    expect(r.status).toBe(200);
    expect(r.body.success).toBe('true');
    expectDocumentedShape('/v3/unify-bind', r.body);
  });
});
