import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_MISMATCH, POSSESSION_INCOMPLETE, passed, startEmulator, type Harness } from './helpers.js';

describe('mobile possession', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  /** A mobile flow finished with OTP 1234; returns the new key. */
  const register = async (phoneNumber: string): Promise<string> => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber });
    const d = await h.device(f.authToken, { otp: '1234' });
    expect(d.body.result).toBe('finished');
    expect((await h.status(f.correlationId)).body.success).toBe('true');
    return d.body.deviceId;
  };

  it('OTP 1234 without a key finishes and places a new key; status true with deviceId, proveId and echoes', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '+12001004014', clientHumanId: 'human-7', clientRequestId: 'req-7' });
    const d = await h.device(f.authToken, { otp: '1234' });
    expect(d.status).toBe(200);
    expect(d.body).toEqual({ result: 'finished', deviceId: expect.stringMatching(/^[A-Za-z0-9_-]{16,}$/) });
    const s = await h.status(f.correlationId);
    expect(s.status).toBe(200);
    expect(s.body).toEqual({
      success: 'true',
      phoneNumber: '+12001004014', // as given at start
      deviceId: d.body.deviceId,
      proveId: expect.any(String),
      clientHumanId: 'human-7',
      clientRequestId: 'req-7',
      evaluation: passed,
    });
  });

  it('reuses a key that holds the number: finished without OTP, same deviceId', async () => {
    const key = await register('2001004015');
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '+12001004015' });
    const d = await h.device(f.authToken, { deviceId: key });
    expect(d.body).toEqual({ result: 'finished', deviceId: key });
    const s = await h.status(f.correlationId);
    expect(s.body).toMatchObject({ success: 'true', deviceId: key });
  });

  it('keeps proveId stable per number and distinct across numbers', async () => {
    const proveIdOf = async (phoneNumber: string) => {
      const f = await h.start({ possessionType: 'mobile', phoneNumber });
      await h.device(f.authToken, { otp: '1234' });
      return (await h.status(f.correlationId)).body.proveId as string;
    };
    const a = await proveIdOf('2001004014');
    expect(await proveIdOf('+12001004014')).toBe(a);
    expect(await proveIdOf('2001004015')).not.toBe(a);
  });

  it('a key of another number fails with 9101; no OTP can save it without rebind', async () => {
    const key = await register('2001004014');
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004015', clientRequestId: 'r-9101' });
    const d = await h.device(f.authToken, { deviceId: key, otp: '1234' });
    expect(d.body).toEqual({ result: 'failed' });
    const s = await h.status(f.correlationId);
    expect(s.body).toEqual({ success: 'false', phoneNumber: '2001004015', clientRequestId: 'r-9101', evaluation: KEY_MISMATCH });
  });

  it('rebind:true with OTP 1234 moves the key to the new number; the old number then mismatches', async () => {
    const key = await register('2001004014');
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004015', rebind: true });
    const d = await h.device(f.authToken, { deviceId: key, otp: '1234' });
    expect(d.body).toEqual({ result: 'finished', deviceId: key });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'true', deviceId: key });

    // The key now authenticates the new number without OTP...
    const again = await h.start({ possessionType: 'mobile', phoneNumber: '2001004015' });
    expect((await h.device(again.authToken, { deviceId: key })).body.result).toBe('finished');
    // ...and the old one no longer.
    const old = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect((await h.device(old.authToken, { deviceId: key })).body.result).toBe('failed');
    expect((await h.status(old.correlationId)).body.evaluation).toEqual(KEY_MISMATCH);
  });

  it('rebind:true forces a real check: a wrong OTP fails even with a key of another number', async () => {
    const key = await register('2001004014');
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004015', rebind: true });
    expect((await h.device(f.authToken, { deviceId: key, otp: '9999' })).body.result).toBe('failed');
    expect((await h.status(f.correlationId)).body.evaluation).toEqual(POSSESSION_INCOMPLETE);
    // Key untouched: still holds the first number.
    const back = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect((await h.device(back.authToken, { deviceId: key })).body.result).toBe('finished');
  });

  it('a wrong OTP fails with 9100 when retries are not allowed', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const d = await h.device(f.authToken, { otp: '0000' });
    expect(d.body).toEqual({ result: 'failed' });
    const s = await h.status(f.correlationId);
    expect(s.body).toMatchObject({ success: 'false', evaluation: POSSESSION_INCOMPLETE });
    expect(s.body.deviceId).toBeUndefined();
    expect(s.body.proveId).toBeUndefined();
  });

  it('allowOTPRetry: two wrong OTPs get retry, the third fails', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014', allowOTPRetry: true });
    expect((await h.device(f.authToken, { otp: '1111' })).body).toEqual({ result: 'retry' });
    expect((await h.device(f.authToken, { otp: '2222' })).body).toEqual({ result: 'retry' });
    expect((await h.device(f.authToken, { otp: '3333' })).body).toEqual({ result: 'failed' });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'false', evaluation: POSSESSION_INCOMPLETE });
  });

  it('allowOTPRetry: a right OTP after a wrong one finishes', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014', allowOTPRetry: true });
    expect((await h.device(f.authToken, { otp: '1111' })).body.result).toBe('retry');
    const d = await h.device(f.authToken, { otp: '1234' });
    expect(d.body.result).toBe('finished');
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'true', deviceId: d.body.deviceId });
  });

  it('a full-flow user must send an OTP: 400 without ending the flow', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004015' });
    const d = await h.device(f.authToken);
    expect(d.status).toBe(400);
    expect(d.body).toEqual({ code: 8001, message: expect.stringContaining('otp') });
    expect((await h.device(f.authToken, { otp: '1234' })).body.result).toBe('finished');
  });

  it.each(['2001004016', '2001004017', '2001004041'])('Mobile Auth user %s finishes without OTP and gets a new key', async (phoneNumber) => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber });
    const d = await h.device(f.authToken);
    expect(d.body).toEqual({ result: 'finished', deviceId: expect.any(String) });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'true', phoneNumber, deviceId: d.body.deviceId });
    // The key placed by Mobile Auth is a real one.
    const next = await h.start({ possessionType: 'mobile', phoneNumber });
    expect((await h.device(next.authToken, { deviceId: d.body.deviceId })).body).toEqual({ result: 'finished', deviceId: d.body.deviceId });
  });

  it('Mobile Auth users still fail a wrong OTP when one is entered', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004016' });
    expect((await h.device(f.authToken, { otp: '4321' })).body.result).toBe('failed');
  });

  it('registration recovery: a deviceId sent at unify is used when the device sends none', async () => {
    const key = await register('2001004014');
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014', deviceId: key });
    expect((await h.device(f.authToken)).body).toEqual({ result: 'finished', deviceId: key });
    // A deviceId from the device wins over the one from unify.
    const other = await register('2001004015');
    const g = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014', deviceId: key });
    expect((await h.device(g.authToken, { deviceId: other })).body.result).toBe('failed');
    expect((await h.status(g.correlationId)).body.evaluation).toEqual(KEY_MISMATCH);
  });

  it('an unknown deviceId counts as no key: OTP places a fresh one', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const d = await h.device(f.authToken, { deviceId: 'never-issued', otp: '1234' });
    expect(d.body.result).toBe('finished');
    expect(d.body.deviceId).not.toBe('never-issued');
  });

  it('a device on another line fails possession when the credential has no phone-number change', async () => {
    const strict = await startEmulator({ phoneNumberChange: false });
    try {
      const f = await strict.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
      expect((await strict.device(f.authToken, { otp: '1234', phoneNumber: '2001004015' })).body).toEqual({ result: 'failed' });
      expect((await strict.status(f.correlationId)).body.evaluation).toEqual(POSSESSION_INCOMPLETE);
      // The same line spelled with +1 is no change.
      const g = await strict.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
      expect((await strict.device(g.authToken, { otp: '1234', phoneNumber: '+12001004014' })).body.result).toBe('finished');
    } finally {
      await strict.close();
    }
  });
});
