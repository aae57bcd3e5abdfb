/**
 * Promises of the API that only their building blocks were tested for: each case goes through
 * GraphQL over HTTP to a real gateway and fails when the promise is broken anywhere on the way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartUnifyDocument, UnifyStatusDocument } from '../generated/graphql.js';
import { startCaptureServer, tokenReply, type CaptureServer } from '../prove/capture-server.js';
import { start, started, trusted } from '../support/flows.js';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';

const unifyCalls = async (gw: TestGateway) => (await gw.sim.stats()).calls['/v3/unify'] ?? 0;
const MOBILE = { possessionType: 'MOBILE' as const, phoneNumber: '2001004014' };

describe('smsMessage is for trusted callers only', () => {
  let gw: TestGateway;
  beforeAll(async () => (gw = await startGateway()));
  afterAll(() => gw.close());

  it('a public caller setting smsMessage gets a typed error and nothing reaches Prove', async () => {
    const before = await unifyCalls(gw);
    const result = await start(gw, { ...MOBILE, smsMessage: 'Your code is ####' });
    expect(result).toMatchObject({ __typename: 'InvalidInputError', field: 'smsMessage', code: 'INVALID_INPUT' });
    expect(await unifyCalls(gw)).toBe(before);
  });

  it('the trusted backend may set it', async () => {
    expect((await start(gw, { ...MOBILE, smsMessage: 'Your code is ####' }, trusted)).__typename).toBe('StartUnifyPayload');
  });
});

describe('an expired flow frees its clientRequestId', () => {
  let gw: TestGateway;
  let clock = Date.now();
  beforeAll(async () => (gw = await startGateway({ FLOW_TTL: '15m' }, { now: () => clock })));
  afterAll(() => gw.close());

  it('replays the live flow, and starts a new one (a new unify) once the first has expired', async () => {
    const input = { ...MOBILE, clientRequestId: 'order-8f3a1c2e-expiry' };
    const first = await started(gw, input, trusted);
    const replay = await started(gw, input, trusted);
    expect(replay.flow.id).toBe(first.flow.id);
    const calls = await unifyCalls(gw);

    clock += 15 * 60_000 + 1_000;
    const afterExpiry = await started(gw, input, trusted);
    expect(afterExpiry.flow.id).not.toBe(first.flow.id);
    expect(afterExpiry.flow.state).toBe('PENDING');
    expect(await unifyCalls(gw)).toBe(calls + 1);
  });
});

describe('the circuit breaker with its default settings', () => {
  let gw: TestGateway;
  beforeAll(async () => (gw = await startGateway()));
  afterAll(() => gw.close());

  it('opens after 5 consecutive Prove outages, and lets one probe through after 5 s', async () => {
    await gw.sim.fault({ endpoint: '/v3/unify', status: 503, count: 1000 });
    const before = await unifyCalls(gw);
    for (let i = 0; i < 5; i++) expect(await start(gw, MOBILE)).toMatchObject({ __typename: 'UpstreamError', upstreamStatus: 503 });
    expect(await unifyCalls(gw)).toBe(before + 5);

    // Open: refused at once, Prove not asked.
    const opened = performance.now();
    expect(await start(gw, MOBILE)).toMatchObject({ __typename: 'UpstreamError', retryable: true, upstreamStatus: null });
    expect(await unifyCalls(gw)).toBe(before + 5);
    // Still open 3 s later (the default is 5 s; a wait that ends late only makes this stricter).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await start(gw, MOBILE)).toMatchObject({ __typename: 'UpstreamError', upstreamStatus: null });
    expect(await unifyCalls(gw)).toBe(before + 5);
    // After 5 s: one probe reaches Prove.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5_300 - (performance.now() - opened))));
    await gw.sim.clearFaults();
    expect((await start(gw, MOBILE)).__typename).toBe('StartUnifyPayload');
    expect(await unifyCalls(gw)).toBe(before + 6);
  }, 20_000);
});

describe('remembered devices are kept apart per API key', () => {
  const DEVICE = '7c1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
  const OTHER_KEY = 'other-backend-key-fedcba9876543210';
  let capture: CaptureServer;
  let gw: TestGateway;
  beforeAll(async () => {
    capture = await startCaptureServer((req) => {
      if (req.path === '/token') return tokenReply();
      if (req.path === '/v3/unify') return { json: { success: 'pending', correlationId: '5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d', authToken: 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln' } };
      if (req.path === '/v3/unify-status') return { json: { success: 'true', phoneNumber: '2001004014', deviceId: DEVICE, proveId: 'p-2' } };
      return undefined;
    });
    gw = await startGateway({
      PROVE_BASE_URL: capture.url, PROVE_CLIENT_ID: 'capture-client', PROVE_CLIENT_SECRET: 'capture-secret-value',
      GATEWAY_API_KEYS: `${TEST_API_KEY},${OTHER_KEY}`,
    });
  });
  afterAll(async () => {
    await gw.close();
    await capture.close();
  });

  const sentDevice = async (apiKey: string) => {
    const result = (await gw.gql(StartUnifyDocument, { input: { ...MOBILE, clientCustomerId: 'customer-42' } }, { apiKey })).startUnify;
    if (result.__typename !== 'StartUnifyPayload') throw new Error(result.__typename);
    return { flowId: result.flow.id, deviceId: (JSON.parse(capture.to('/v3/unify').at(-1)!.body) as { deviceId?: string }).deviceId };
  };

  it("one backend's customer device is never sent for another backend's customer of the same id", async () => {
    const { flowId } = await sentDevice(TEST_API_KEY);
    expect((await gw.gql(UnifyStatusDocument, { flowId }, trusted)).unifyStatus).toMatchObject({ flow: { state: 'VERIFIED', deviceId: DEVICE } });
    expect((await sentDevice(OTHER_KEY)).deviceId).toBeUndefined();
    expect((await sentDevice(TEST_API_KEY)).deviceId).toBe(DEVICE);
  });

  it('a public caller naming the same customer id gets no remembered device either', async () => {
    const result = await start(gw, { ...MOBILE, clientCustomerId: 'customer-42' });
    expect(result.__typename).toBe('StartUnifyPayload');
    expect((JSON.parse(capture.to('/v3/unify').at(-1)!.body) as { deviceId?: string }).deviceId).toBeUndefined();
  });
});
