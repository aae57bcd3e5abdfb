/**
 * revokeDevice: trusted callers deactivate a Prove Key at Prove (POST /v3/device/revoke) and the
 * gateway forgets it in the per-customer memory, so no later start sends it for recovery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevokeDeviceDocument, StartUnifyDocument, UnifyStatusDocument } from '../generated/graphql.js';
import { startCaptureServer, tokenReply, type CaptureServer } from '../prove/capture-server.js';
import { started, trusted, verifiedMobile } from '../support/flows.js';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';

const revoke = async (gw: TestGateway, input: { deviceId: string; clientRequestId?: string }, options: { apiKey?: string } = trusted) =>
  (await gw.gql(RevokeDeviceDocument, { input }, options)).revokeDevice;

describe('revokeDevice against the emulator', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());

  it('a revoked key no longer passes on its own: the next flow on that device needs the SMS code', async () => {
    const flow = await verifiedMobile(gw, '2001004014');
    const deviceId = flow.deviceId!;
    expect(await revoke(gw, { deviceId, clientRequestId: 'revoke-1' })).toEqual({ __typename: 'RevokeDevicePayload', deviceId, revoked: true });
    const next = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', deviceId });
    await expect(gw.sim.authenticate({ authToken: next.authToken })).rejects.toThrow(/otp is required/);
    await gw.sim.authenticate({ authToken: next.authToken, otp: '1234' });
    const done = (await gw.gql(UnifyStatusDocument, { flowId: next.flow.id })).unifyStatus;
    expect(done.__typename === 'UnifyStatusPayload' && done.flow.deviceId).not.toBe(deviceId);
  });

  it('a device Prove does not know: revoked false', async () => {
    expect(await revoke(gw, { deviceId: 'never-issued' })).toEqual({ __typename: 'RevokeDevicePayload', deviceId: 'never-issued', revoked: false });
  });

  it('public callers may not revoke', async () => {
    expect(await revoke(gw, { deviceId: 'anything' }, {})).toMatchObject({ __typename: 'NotAuthorizedError', code: 'NOT_AUTHORIZED' });
  });

  it.each([['a space', 'a b'], ['empty', ''], ['over 128 characters', 'x'.repeat(129)]])('refuses a deviceId with %s', async (_name, deviceId) => {
    expect(await revoke(gw, { deviceId })).toMatchObject({ __typename: 'InvalidInputError', field: 'deviceId' });
  });

  it('Prove failing is an UpstreamError', async () => {
    await gw.sim.fault({ endpoint: '/v3/device/revoke', status: 503 });
    expect(await revoke(gw, { deviceId: 'whatever' })).toMatchObject({ __typename: 'UpstreamError', retryable: true, upstreamStatus: 503 });
  });
});

describe('revokeDevice on the wire, and the per-customer memory', () => {
  const DEVICE = 'bf9ea15d-7dfa-4bb4-a64c-6c26b53472fc';
  const CORRELATION_ID = '3f2b1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  let capture: CaptureServer;
  let gw: TestGateway;
  beforeAll(async () => {
    capture = await startCaptureServer((req) => {
      if (req.path === '/token') return tokenReply();
      if (req.path === '/v3/unify') return { json: { success: 'pending', correlationId: CORRELATION_ID, authToken: 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln' } };
      if (req.path === '/v3/unify-status') return { json: { success: 'true', phoneNumber: '2001004014', deviceId: DEVICE, proveId: 'p-1' } };
      if (req.path === '/v3/device/revoke') return { json: { success: true } };
      return undefined;
    });
    gw = await startGateway({ PROVE_BASE_URL: capture.url, PROVE_CLIENT_ID: 'capture-client', PROVE_CLIENT_SECRET: 'capture-secret-value' });
  });
  afterAll(async () => {
    await gw.close();
    await capture.close();
  });

  const startFor = async (clientCustomerId: string) => {
    const result = (await gw.gql(StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: '2001004014', clientCustomerId } }, { apiKey: TEST_API_KEY })).startUnify;
    if (result.__typename !== 'StartUnifyPayload') throw new Error(result.__typename);
    return JSON.parse(capture.to('/v3/unify').at(-1)!.body) as Record<string, unknown>;
  };

  it('sends clientRequestId and deviceId, and the customer\'s next start no longer recovers the revoked key', async () => {
    await startFor('customer-9');
    const flowId = (await gw.gql(StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: '2001004014', clientCustomerId: 'customer-9' } }, { apiKey: TEST_API_KEY })).startUnify;
    if (flowId.__typename !== 'StartUnifyPayload') throw new Error(flowId.__typename);
    await gw.gql(UnifyStatusDocument, { flowId: flowId.flow.id }, { apiKey: TEST_API_KEY });
    expect((await startFor('customer-9')).deviceId).toBe(DEVICE);

    expect(await revoke(gw, { deviceId: DEVICE, clientRequestId: 'lost-phone-1' })).toMatchObject({ revoked: true });
    expect(JSON.parse(capture.to('/v3/device/revoke').at(-1)!.body)).toEqual({ clientRequestId: 'lost-phone-1', deviceId: DEVICE });
    expect(await startFor('customer-9')).not.toHaveProperty('deviceId');
  });

  it('without a clientRequestId the gateway makes one (Prove requires it)', async () => {
    await revoke(gw, { deviceId: DEVICE });
    expect(JSON.parse(capture.to('/v3/device/revoke').at(-1)!.body)).toEqual({ clientRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/), deviceId: DEVICE });
  });
});
