import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { bind, start, started, status, stored, trusted, verifiedMobile } from '../support/flows.js';

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
    // A public caller's id replays only when unguessable (a UUID v4).
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004014', clientRequestId: randomUUID() };
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

  it("a backend's next start for its customer sends the deviceId of the last successful flow (Prove Key recovery)", async () => {
    const clientCustomerId = `customer-${Date.now()}`;
    const first = await verifiedMobile(gw, '2001004014', { clientCustomerId }, trusted);
    expect(first.deviceId).toBeTruthy();
    // No deviceId from the caller: the gateway restores the registration, so the key alone verifies.
    const next = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientCustomerId }, trusted);
    // deviceId is what Prove reports, never what was sent: nothing yet.
    expect(next.flow.deviceId).toBeNull();
    expect((await gw.sim.authenticate({ authToken: next.authToken })).result).toBe('finished');
    const result = await status(gw, next.flow.id, trusted);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow.deviceId).toBe(first.deviceId);
  });

  it("a public caller naming someone's clientCustomerId neither reads nor replaces their remembered device", async () => {
    const clientCustomerId = `victim-${Date.now()}`;
    const victim = await verifiedMobile(gw, '2001004014', { clientCustomerId }, trusted);
    // The attacker's start gets no key restored: without one, the device must do the OTP.
    const probe = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015', clientCustomerId });
    expect(probe.flow.deviceId).toBeNull();
    await expect(gw.sim.authenticate({ authToken: probe.authToken })).rejects.toThrow(/otp/i);
    // Finishing a flow under that customer id with another device leaves the victim's memory alone.
    await verifiedMobile(gw, '2001004015', { clientCustomerId });
    const next = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientCustomerId }, trusted);
    expect((await gw.sim.authenticate({ authToken: next.authToken })).result).toBe('finished');
    const result = await status(gw, next.flow.id, trusted);
    expect(result.__typename === 'UnifyStatusPayload' && result.flow.deviceId).toBe(victim.deviceId);
  });
});

describe('concurrent callers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());
  afterEach(() => gw.sim.clearFaults());

  it("another caller reusing a clientRequestId while the first start is still at Prove gets InvalidInputError, not the first flow", async () => {
    // Prove holds the first unify for 3 s; the intruder comes once that unify has reached Prove.
    await gw.sim.fault({ endpoint: '/v3/unify', count: 1, latencyMs: 3_000 });
    const clientRequestId = `order-${Date.now()}`;
    const unifyCalls = async () => (await gw.sim.stats()).calls['/v3/unify'] ?? 0;
    const before = await unifyCalls();
    const victim = started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014', clientRequestId }, trusted);
    for (const until = Date.now() + 10_000; (await unifyCalls()) === before; ) {
      if (Date.now() > until) throw new Error('the first start never reached Prove');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const intruder = await start(gw, { possessionType: 'MOBILE', phoneNumber: '2001004015', clientRequestId });
    const first = await victim;
    expect(intruder.__typename === 'InvalidInputError' && intruder.field).toBe('clientRequestId');
    expect(JSON.stringify(intruder)).not.toContain(first.flow.id);
    expect(JSON.stringify(intruder)).not.toContain(first.authToken);
  });

  it('a repeated start after the flow finished returns that finished flow, with no second SMS', async () => {
    const clientRequestId = randomUUID();
    const input = { possessionType: 'MOBILE' as const, phoneNumber: '2001004018', clientRequestId };
    const first = await started(gw, input);
    expect((await status(gw, first.flow.id)).__typename).toBe('UnifyStatusPayload');
    await gw.sim.resetStats();
    const again = await started(gw, input);
    expect(again.flow.id).toBe(first.flow.id);
    expect(again.flow.state).toBe('VERIFIED');
    expect((await gw.sim.stats()).calls['/v3/unify'] ?? 0).toBe(0);
  });

  it('two binds at once: one binds, the other hears BindNotAllowedError; Prove is asked once', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'NONE', phoneNumber: '2001004014' });
    await gw.sim.authenticate({ authToken });
    expect((await status(gw, flow.id)).__typename).toBe('UnifyStatusPayload');
    await gw.sim.resetStats();
    await gw.sim.fault({ endpoint: '/v3/unify-bind', count: 1, latencyMs: 300 });
    const [a, b] = await Promise.all([bind(gw, flow.id, '2001004015', trusted), bind(gw, flow.id, '2001004014', trusted)]);
    // The first (wrong number) fails the flow; the second must not report its own success.
    expect([a.__typename, b.__typename].sort()).toEqual(['BindNotAllowedError', 'PossessionFailedError']);
    expect((await gw.sim.stats()).calls['/v3/unify-bind']).toBe(1);
  });
});
