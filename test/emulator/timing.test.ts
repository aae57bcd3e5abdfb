/**
 * Windows and expiry on the emulator's injected clock: it reads its clock per request, so moving
 * the clock between real HTTP calls is what a client would see after that much time, without
 * windows so short that a busy machine misses them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSSESSION_INCOMPLETE, startEmulator, type Harness } from './helpers.js';

let clock = Date.now();
const now = () => clock;
const advance = (ms: number) => void (clock += ms);

describe('OTP and Instant Link windows', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator({ flowTtlMs: 5_000, otpWindowMs: 200, linkWindowMs: 200, now });
  });
  afterAll(() => h.close());

  it('a right OTP after the OTP window fails with 9100', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014', allowOTPRetry: true });
    advance(260);
    expect((await h.device(f.authToken, { otp: '1234' })).body).toEqual({ result: 'failed' });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'false', evaluation: POSSESSION_INCOMPLETE });
  });

  it('a right OTP inside the window passes (same emulator, same settings)', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect((await h.device(f.authToken, { otp: '1234' })).body.result).toBe('finished');
  });

  it('Mobile Auth is not bound to the OTP window', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004016' });
    advance(260);
    expect((await h.device(f.authToken)).body.result).toBe('finished');
  });

  it('an Instant Link after the link window fails with 9100; inside it passes', async () => {
    const late = await h.start({ possessionType: 'desktop', phoneNumber: '2001004015', finalTargetUrl: 'https://x.com' });
    const inTime = await h.start({ possessionType: 'desktop', phoneNumber: '2001004015', finalTargetUrl: 'https://x.com' });
    expect((await h.device(inTime.authToken, { instantLink: true })).body.result).toBe('finished');
    advance(260);
    expect((await h.device(late.authToken, { instantLink: true })).body).toEqual({ result: 'failed' });
    expect((await h.status(late.correlationId)).body).toMatchObject({ success: 'false', evaluation: POSSESSION_INCOMPLETE });
  });
});

describe('flow expiry', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator({ flowTtlMs: 300, now });
  });
  afterAll(() => h.close());

  const expired = { code: 8008, message: 'correlation id expired' };

  it('status after flowTtlMs: 400 8008 "correlation id expired", even for a finished flow', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004018' });
    expect((await h.status(f.correlationId)).body.success).toBe('true');
    advance(350);
    const r = await h.status(f.correlationId);
    expect(r.status).toBe(400);
    expect(r.body).toEqual(expired);
  });

  it('the authToken JWT carries an exp matching the flow lifetime', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const claims = JSON.parse(Buffer.from(f.authToken.split('.')[1]!, 'base64url').toString());
    expect(claims.exp * 1000).toBeGreaterThanOrEqual(clock);
    expect(claims.exp * 1000).toBeLessThanOrEqual(clock + 2000);
  });

  it('the device cannot authenticate an expired flow', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    advance(350);
    const r = await h.device(f.authToken, { otp: '1234' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 8008, message: expect.stringContaining('expired') });
  });

  it('bind on an expired possession_required flow is refused as expired', async () => {
    const f = await h.start({ possessionType: 'none', phoneNumber: '2001004014' });
    await h.device(f.authToken);
    expect((await h.status(f.correlationId)).body.success).toBe('possession_required');
    advance(350);
    const r = await h.bind(f.correlationId, '2001004014');
    expect(r.status).toBe(400);
    expect(r.body).toEqual(expired);
  });
});
