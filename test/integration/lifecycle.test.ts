import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { start, started, status, stored, verifiedMobile } from '../support/flows.js';

describe('expiry (shortened windows)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ FLOW_TTL: '400ms' }, { emulator: { flowTtlMs: 400 } });
  });
  afterAll(() => gw.close());

  it('a flow past its lifetime is FlowExpiredError, and stays EXPIRED', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await gw.sim.authenticate({ authToken, otp: '1234' }).catch(() => undefined);
    const calls = (await gw.sim.stats()).calls['/v3/unify-status'] ?? 0;
    const result = await status(gw, flow.id);
    expect(result.__typename).toBe('FlowExpiredError');
    expect(result.__typename === 'FlowExpiredError' && result.flow.state).toBe('EXPIRED');
    // Expired by our own clock: Prove was not asked.
    expect((await gw.sim.stats()).calls['/v3/unify-status'] ?? 0).toBe(calls);
    expect((await stored(gw, flow.id))?.state).toBe('EXPIRED');
  });
});

describe('upstream faults', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({}, { prove: { timeoutMs: 300, statusDeadlineMs: 800 } });
  });
  afterAll(() => gw.close());
  afterEach(() => gw.sim.clearFaults());

  it('a 500 burst on unify-status is UpstreamError with the flow unchanged, and the flow still completes', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    await gw.sim.authenticate({ authToken, otp: '1234' });
    await gw.sim.fault({ endpoint: '/v3/unify-status', count: 50, status: 500 });
    const failed = await status(gw, flow.id);
    expect(failed.__typename).toBe('UpstreamError');
    expect(failed.__typename === 'UpstreamError' && failed.retryable).toBe(true);
    expect((await stored(gw, flow.id))?.state).toBe('PENDING');

    await gw.sim.clearFaults();
    const ok = await status(gw, flow.id);
    expect(ok.__typename === 'UnifyStatusPayload' && ok.flow.state).toBe('VERIFIED');
  });

  it('a hanging unify-status times out as UpstreamError and the flow completes afterwards', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    await gw.sim.authenticate({ authToken, otp: '1234' });
    await gw.sim.fault({ endpoint: '/v3/unify-status', count: 10, hang: true });
    expect((await status(gw, flow.id)).__typename).toBe('UpstreamError');
    await gw.sim.clearFaults();
    const ok = await status(gw, flow.id);
    expect(ok.__typename === 'UnifyStatusPayload' && ok.flow.state).toBe('VERIFIED');
  });

  it('a failing unify is UpstreamError and is sent exactly once (no second SMS)', async () => {
    await gw.sim.resetStats();
    await gw.sim.fault({ endpoint: '/v3/unify', count: 1, status: 503 });
    const result = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    expect(result.__typename === 'UpstreamError' && result.upstreamStatus).toBe(503);
    expect((await gw.sim.stats()).calls['/v3/unify']).toBe(1);
  });
});

describe('concurrency and idempotency', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());

  it('20 concurrent unifyStatus calls for one flow make one upstream call and agree', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    await gw.sim.authenticate({ authToken, otp: '1234' });
    await gw.sim.resetStats();
    const results = await Promise.all(Array.from({ length: 20 }, () => status(gw, flow.id)));
    expect(new Set(results.map((r) => (r.__typename === 'UnifyStatusPayload' ? r.flow.state : r.__typename)))).toEqual(
      new Set(['VERIFIED']),
    );
    expect((await gw.sim.stats()).calls['/v3/unify-status']).toBe(1);
    // Terminal now: answered from the store.
    await status(gw, flow.id);
    expect((await gw.sim.stats()).calls['/v3/unify-status']).toBe(1);
  });

  it('the same start with the same clientRequestId returns the same flow and sends one unify', async () => {
    await gw.sim.resetStats();
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004014', clientRequestId: `req-${Date.now()}` };
    const [a, b] = await Promise.all([started(gw, input), started(gw, input)]);
    const c = await started(gw, input);
    expect(b.flow.id).toBe(a.flow.id);
    expect(c.flow.id).toBe(a.flow.id);
    expect(c.authToken).toBe(a.authToken);
    expect((await gw.sim.stats()).calls['/v3/unify']).toBe(1);
  });

  it('another caller, or other input, reusing a clientRequestId learns nothing of the first flow', async () => {
    const clientRequestId = `req-shared-${Date.now()}`;
    const first = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId });
    const otherCaller = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId }, { apiKey: TEST_API_KEY });
    expect(otherCaller.__typename === 'InvalidInputError' && otherCaller.field).toBe('clientRequestId');
    expect(JSON.stringify(otherCaller)).not.toContain(first.flow.id);
    const otherInput = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015', clientRequestId });
    expect(otherInput.__typename === 'InvalidInputError' && otherInput.field).toBe('clientRequestId');
  });

  it("a customer's next start sends the deviceId of its last successful flow (Prove Key recovery)", async () => {
    const clientCustomerId = `customer-${Date.now()}`;
    const first = await verifiedMobile(gw, '2001004014', { clientCustomerId });
    expect(first.deviceId).toBeTruthy();
    // No deviceId from the caller: the gateway restores the registration, so the key alone verifies.
    const next = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientCustomerId });
    expect(next.flow.deviceId).toBe(first.deviceId);
    expect((await gw.sim.authenticate({ authToken: next.authToken })).result).toBe('finished');
    const result = await status(gw, next.flow.id);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow.deviceId).toBe(first.deviceId);
  });
});
