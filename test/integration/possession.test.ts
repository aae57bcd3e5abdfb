import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { bind, start, started, status, stored, trusted, verifiedMobile } from '../support/flows.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.close());

describe('MOBILE', () => {
  it('goes PENDING -> VERIFIED with a Prove Key, and a second flow verifies by that key alone', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    expect(flow.state).toBe('PENDING');
    expect(flow.phoneNumber).toBe('***4014');
    expect(authToken.split('.')).toHaveLength(3);

    const device = await gw.sim.authenticate({ authToken, otp: '1234' });
    expect(device.result).toBe('finished');
    const verified = await status(gw, flow.id);
    expect(verified.__typename).toBe('UnifyStatusPayload');
    if (verified.__typename !== 'UnifyStatusPayload') return;
    expect(verified.flow.state).toBe('VERIFIED');
    expect(verified.flow.terminal).toBe(true);
    expect(verified.flow.deviceId).toBe(device.deviceId);
    expect(verified.flow.proveId).toBeTruthy();

    const again = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', deviceId: device.deviceId });
    expect((await gw.sim.authenticate({ authToken: again.authToken })).result).toBe('finished');
    const second = await status(gw, again.flow.id);
    expect(second.__typename === 'UnifyStatusPayload' && second.flow.state).toBe('VERIFIED');
  });

  it('9101: another number on that device is ProveKeyMismatchError; rebind moves the key; the old number then mismatches', async () => {
    const first = await verifiedMobile(gw, '2001004014');
    const deviceId = first.deviceId!;

    const other = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015', deviceId });
    await gw.sim.authenticate({ authToken: other.authToken });
    const mismatch = await status(gw, other.flow.id);
    expect(mismatch.__typename).toBe('ProveKeyMismatchError');
    if (mismatch.__typename !== 'ProveKeyMismatchError') return;
    expect(mismatch.code).toBe('PROVE_KEY_MISMATCH');
    expect(mismatch.upstreamCode).toBe(9101);
    expect(mismatch.rebindRequired).toBe(true);
    expect(mismatch.flow.state).toBe('FAILED');
    expect(mismatch.flow.failureReasons.map((r) => r.code)).toContain(9101);

    const rebound = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015', deviceId, rebind: true });
    expect((await gw.sim.authenticate({ authToken: rebound.authToken, otp: '1234' })).result).toBe('finished');
    const ok = await status(gw, rebound.flow.id);
    expect(ok.__typename === 'UnifyStatusPayload' && ok.flow.state).toBe('VERIFIED');

    const old = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', deviceId });
    await gw.sim.authenticate({ authToken: old.authToken });
    expect((await status(gw, old.flow.id)).__typename).toBe('ProveKeyMismatchError');
  });

  it('a wrong OTP is PossessionFailedError with its reasons', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015' });
    expect((await gw.sim.authenticate({ authToken, otp: '9999' })).result).toBe('failed');
    const result = await status(gw, flow.id);
    expect(result.__typename).toBe('PossessionFailedError');
    if (result.__typename !== 'PossessionFailedError') return;
    expect(result.failureReasons.length).toBeGreaterThan(0);
    expect(result.flow.state).toBe('FAILED');
  });
});

describe('DESKTOP', () => {
  it('Instant Link verifies without a deviceId', async () => {
    const { flow, authToken } = await started(gw, {
      possessionType: 'DESKTOP', phoneNumber: '2001004014', finalTargetUrl: 'https://example.com/done',
    });
    await gw.sim.authenticate({ authToken, instantLink: true });
    const result = await status(gw, flow.id);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow.state).toBe('VERIFIED');
    expect(result.__typename === 'UnifyStatusPayload' && result.flow.deviceId).toBeNull();
  });

  it('no link clicked is PossessionFailedError', async () => {
    const { flow, authToken } = await started(gw, {
      possessionType: 'DESKTOP', phoneNumber: '2001004014', finalTargetUrl: 'https://example.com/done',
    });
    await gw.sim.authenticate({ authToken, instantLink: false });
    expect((await status(gw, flow.id)).__typename).toBe('PossessionFailedError');
  });

  it('requires finalTargetUrl', async () => {
    const result = await start(gw, { possessionType: 'DESKTOP', phoneNumber: '2001004014' });
    expect(result.__typename === 'InvalidInputError' && result.field).toBe('finalTargetUrl');
  });
});

describe('NONE (customer-supplied possession)', () => {
  async function possessionRequired() {
    const { flow, authToken } = await started(gw, { possessionType: 'NONE', phoneNumber: '2001004014' });
    await gw.sim.authenticate({ authToken });
    const result = await status(gw, flow.id);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow.state).toBe('POSSESSION_REQUIRED');
    return flow.id;
  }

  it('a public caller cannot bind, and the flow is unchanged', async () => {
    const id = await possessionRequired();
    const result = await bind(gw, id, '2001004014');
    expect(result.__typename).toBe('NotAuthorizedError');
    expect((await stored(gw, id))?.state).toBe('POSSESSION_REQUIRED');
  });

  it('a trusted caller binds: BOUND with a deviceId, full number and correlationId visible to it', async () => {
    const id = await possessionRequired();
    const result = await bind(gw, id, '2001004014', trusted);
    expect(result.__typename).toBe('BindPhonePayload');
    if (result.__typename !== 'BindPhonePayload') return;
    expect(result.flow.state).toBe('BOUND');
    expect(result.flow.deviceId).toBeTruthy();
    expect(result.flow.phoneNumber).toBe('+12001004014');
    expect(result.flow.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const publicView = await stored(gw, id);
    expect(publicView?.correlationId).toBeNull();
    expect(publicView?.phoneNumber).toBe('***4014');
  });

  it('binding another number fails the flow', async () => {
    const id = await possessionRequired();
    const result = await bind(gw, id, '2001004015', trusted);
    expect(['PossessionFailedError', 'ProveKeyMismatchError']).toContain(result.__typename);
    expect((await stored(gw, id))?.state).toBe('FAILED');
  });

  it('binding a MOBILE flow or a terminal flow is BindNotAllowedError', async () => {
    const mobile = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const refused = await bind(gw, mobile.flow.id, '2001004014', trusted);
    expect(refused.__typename === 'BindNotAllowedError' && refused.possessionType).toBe('MOBILE');

    const id = await possessionRequired();
    await bind(gw, id, '2001004014', trusted);
    const twice = await bind(gw, id, '2001004014', trusted);
    expect(twice.__typename === 'BindNotAllowedError' && twice.state).toBe('BOUND');
  });
});

describe('sandbox behaviours', () => {
  it('2001004018 verifies with no client step', async () => {
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004018' });
    const result = await status(gw, flow.id);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow.state).toBe('VERIFIED');
  });

  it('asking before the device finished ends the flow FAILED with reason 9100, as Prove does', async () => {
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const result = await status(gw, flow.id);
    expect(result.__typename).toBe('PossessionFailedError');
    if (result.__typename !== 'PossessionFailedError') return;
    expect(result.failureReasons.map((r) => r.code)).toContain(9100);
  });

  it('an unknown flow id is FlowNotFoundError, and flow(id) is null', async () => {
    expect((await status(gw, 'AAAAAAAAAAAAAAAAAAAAAAAA')).__typename).toBe('FlowNotFoundError');
    expect((await status(gw, 'not even the right shape')).__typename).toBe('FlowNotFoundError');
    expect(await stored(gw, 'AAAAAAAAAAAAAAAAAAAAAAAA')).toBeNull();
  });
});

describe('callers', () => {
  it('a wrong API key is refused with 401 and a message, not downgraded to public', async () => {
    const { status: code, body } = await gw.raw({ query: '{ __typename }' }, { authorization: 'Bearer not-a-key' });
    expect(code).toBe(401);
    expect(body.errors?.[0]?.message).toMatch(/API key/);
  });

  it('a trusted caller sees the full number and correlationId; a public one sees neither', async () => {
    const { flow } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const mine = await stored(gw, flow.id, trusted);
    expect(mine?.phoneNumber).toBe('+12001004014');
    expect(mine?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(flow.correlationId).toBeNull();
  });
});
