/**
 * Through the gateway: starts without a phone number, the new identity inputs on the wire, the
 * number Prove verified (not the one the flow started with), limits once the number is known,
 * and MOBILE flows that Prove answers possession_required.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartUnifyDocument } from '../generated/graphql.js';
import { startCaptureServer, tokenReply, type CaptureServer } from '../prove/capture-server.js';
import { bind, start, started, status, stored, trusted } from '../support/flows.js';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';

describe('phone-less starts and the verified number', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());

  it('MOBILE without a number: US Mobile Auth supplies it and the flow reports it', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE' });
    expect(flow.state).toBe('PENDING');
    expect(flow.phoneNumber).toBeNull();
    await gw.sim.authenticate({ authToken, phoneNumber: '2001004016' });
    const result = await status(gw, flow.id);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow).toMatchObject({ state: 'VERIFIED', phoneNumber: '***4016' });
    expect((await stored(gw, flow.id, trusted))?.phoneNumber).toBe('+12001004016');
  });

  it('NONE with only a clientRequestId: bindPhone names the number', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'NONE', clientRequestId: 'phoneless-none-1' }, trusted);
    await gw.sim.authenticate({ authToken });
    const required = await status(gw, flow.id, trusted);
    expect(required.__typename === 'UnifyStatusPayload' && required.flow.state).toBe('POSSESSION_REQUIRED');
    const bound = await bind(gw, flow.id, '2001004014', trusted);
    expect(bound.__typename === 'BindPhonePayload' && bound.flow).toMatchObject({ state: 'BOUND', phoneNumber: '+12001004014' });
  });

  it('a proveId from an earlier success stands in for the number', async () => {
    const first = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015' });
    await gw.sim.authenticate({ authToken: first.authToken, otp: '1234' });
    const done = await status(gw, first.flow.id);
    const proveId = done.__typename === 'UnifyStatusPayload' ? done.flow.proveId : undefined;
    expect(proveId).toEqual(expect.any(String));
    const { flow, authToken } = await started(gw, { possessionType: 'DESKTOP', proveId, finalTargetUrl: 'https://app.example.com/done' }, trusted);
    expect(flow.phoneNumber).toBeNull();
    await gw.sim.authenticate({ authToken, instantLink: true });
    const result = await status(gw, flow.id, trusted);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow).toMatchObject({ state: 'VERIFIED', phoneNumber: '+12001004015', proveId });
  });

  it.each(['+2001004025', '+2001004026', '+2001004027', '+2001004028', '+2001004043'])(
    'accepts the international sandbox number %s (libphonenumber calls it invalid) and verifies it',
    async (phoneNumber) => {
      const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber });
      await gw.sim.authenticate({ authToken, otp: '1234' });
      const result = await status(gw, flow.id, trusted);
      expect(result.__typename === 'UnifyStatusPayload' && result.flow).toMatchObject({ state: 'VERIFIED', phoneNumber });
    },
  );

  it('an international Mobile Auth user cannot finish a phone-less start', async () => {
    // A phone-less start goes to the default region, the US, which does not serve international numbers...
    const { authToken } = await started(gw, { possessionType: 'MOBILE' });
    await expect(gw.sim.authenticate({ authToken, phoneNumber: '+2001004043' })).rejects.toThrow(/no test user found/);
    // ...and the EU region needs the number at start ("all other countries do").
    const inEu = await start(gw, { possessionType: 'MOBILE', region: 'EU' });
    expect(inEu).toMatchObject({ __typename: 'InvalidInputError', field: 'phoneNumber' });
  });

  it('DESKTOP without a number or a proveId is refused before Prove', async () => {
    const result = await start(gw, { possessionType: 'DESKTOP', finalTargetUrl: 'https://app.example.com/done' });
    expect(result).toMatchObject({ __typename: 'InvalidInputError', field: 'phoneNumber' });
  });

  it('a number changed on the device: VERIFIED reports the verified number, not the start number', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' }, trusted);
    expect(flow.phoneNumber).toBe('+12001004014');
    await gw.sim.authenticate({ authToken, phoneNumber: '2001004015', otp: '1234' });
    const result = await status(gw, flow.id, trusted);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow).toMatchObject({ state: 'VERIFIED', phoneNumber: '+12001004015' });
    expect((await stored(gw, flow.id, trusted))?.phoneNumber).toBe('+12001004015');
  });

  it('a MOBILE flow answered possession_required fails at once instead of waiting for its expiry', async () => {
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    await gw.sim.fault({ endpoint: '/v3/unify-status', status: 200, body: { success: 'possession_required', phoneNumber: '2001004014' } });
    const result = await status(gw, flow.id);
    expect(result).toMatchObject({ __typename: 'PossessionFailedError', flow: { state: 'FAILED', terminal: true } });
  });

  it.each([
    ['an email with a dash (Prove allows letters, digits and @ . + only)', { emailAddress: 'first-last@example.com' }, 'emailAddress', trusted],
    ['an email without @', { emailAddress: 'example.com' }, 'emailAddress', trusted],
    ['an ipAddress that is no address', { ipAddress: '999.1.1.1' }, 'ipAddress', trusted],
    ['an ipAddress with a zone id', { ipAddress: 'fe80::1%eth0' }, 'ipAddress', trusted],
    ['an ipAddress from a public caller', { ipAddress: '192.0.2.7' }, 'ipAddress', {}],
    ['a proveId with a space', { proveId: 'a b' }, 'proveId', trusted],
  ])('refuses %s', async (_name, extra, field, options) => {
    const result = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', ...extra }, options);
    expect(result).toMatchObject({ __typename: 'InvalidInputError', field });
  });
});

describe('limits once the number is known', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ START_LIMIT_PER_NUMBER: '1/10m', START_LIMIT_PER_NUMBER_ALL: '1/10m', START_LIMIT_PER_ADDRESS: '3/10m' });
  });
  afterAll(() => gw.close());

  it('a number learnt from Prove counts against its limit; the address limit holds for phone-less starts', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE' });
    await gw.sim.authenticate({ authToken, phoneNumber: '2001004017' });
    expect((await status(gw, flow.id)).__typename).toBe('UnifyStatusPayload');
    expect(await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004017' })).toMatchObject({ __typename: 'RateLimitedError' });
    // Three starts from this address in all (the refused one counts): the fourth is refused, number or not.
    expect(await start(gw, { possessionType: 'MOBILE' })).toMatchObject({ __typename: 'StartUnifyPayload' });
    expect(await start(gw, { possessionType: 'MOBILE' })).toMatchObject({ __typename: 'RateLimitedError' });
  });
});

describe('the new inputs on the wire', () => {
  let capture: CaptureServer;
  let gw: TestGateway;
  beforeAll(async () => {
    capture = await startCaptureServer((req) => {
      if (req.path === '/token') return tokenReply();
      if (req.path === '/v3/unify') {
        return { json: { success: 'pending', correlationId: '3f2b1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', authToken: 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln' } };
      }
      return undefined;
    });
    gw = await startGateway({ PROVE_BASE_URL: capture.url, PROVE_CLIENT_ID: 'capture-client', PROVE_CLIENT_SECRET: 'capture-secret-value' });
  });
  afterAll(async () => {
    await gw.close();
    await capture.close();
  });

  const lastUnify = () => JSON.parse(capture.to('/v3/unify').at(-1)!.body) as Record<string, unknown>;

  it('a trusted caller\'s proveId, emailAddress and ipAddress reach Prove as given, with no phoneNumber', async () => {
    const input = { possessionType: 'MOBILE' as const, proveId: 'a07b94ce-218c-461f-beda-d92480e40f61', emailAddress: 'first.last+x@example.com', ipAddress: '2001:db8::7' };
    expect((await gw.gql(StartUnifyDocument, { input }, { apiKey: TEST_API_KEY })).startUnify.__typename).toBe('StartUnifyPayload');
    const body = lastUnify();
    expect(body).toMatchObject({ possessionType: 'mobile', proveId: input.proveId, emailAddress: input.emailAddress, ipAddress: input.ipAddress });
    expect(body).not.toHaveProperty('phoneNumber');
    expect(body.clientRequestId).toEqual(expect.any(String));
  });

  it('for a public caller the gateway sends the address it sees; a trusted caller without one sends none', async () => {
    await gw.gql(StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: '2001004014' } });
    expect(lastUnify().ipAddress).toBe('127.0.0.1');
    await gw.gql(StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: '2001004014' } }, { apiKey: TEST_API_KEY });
    expect(lastUnify()).not.toHaveProperty('ipAddress');
  });
});
