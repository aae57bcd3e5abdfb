/**
 * Starts without a phone number (US Mobile Auth, proveId, customer-supplied), the client SDK's
 * phone-number change and resend (at most three send attempts), and Prove Key revocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSSESSION_INCOMPLETE, startEmulator, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startEmulator();
});
afterAll(() => h.close());

/** A mobile flow finished with OTP 1234; returns the new key. */
async function register(phoneNumber: string): Promise<string> {
  const f = await h.start({ possessionType: 'mobile', phoneNumber });
  const d = await h.device(f.authToken, { otp: '1234' });
  expect((await h.status(f.correlationId)).body.success).toBe('true');
  return d.body.deviceId as string;
}

describe('starts without a phone number', () => {
  it('US Mobile Auth: the device finds the number (no OTP) and unify-status reports it', async () => {
    const f = await h.start({ possessionType: 'mobile' });
    expect((await h.device(f.authToken, { phoneNumber: '2001004016' })).body).toEqual({ result: 'finished', deviceId: expect.any(String) });
    const s = await h.status(f.correlationId);
    expect(s.body).toMatchObject({ success: 'true', phoneNumber: '2001004016', proveId: expect.any(String), deviceId: expect.any(String) });
  });

  it('a number the person enters (no Mobile Auth) needs the SMS code', async () => {
    const f = await h.start({ possessionType: 'mobile' });
    expect((await h.device(f.authToken, { phoneNumber: '2001004014' })).status).toBe(400);
    const g = await h.start({ possessionType: 'mobile' });
    expect((await h.device(g.authToken, { phoneNumber: '2001004014', otp: '1234' })).body.result).toBe('finished');
    expect((await h.status(g.correlationId)).body).toMatchObject({ success: 'true', phoneNumber: '2001004014' });
  });

  it('the device\'s Prove Key names the person; without a key or a number the device must supply one', async () => {
    const key = await register('2001004015');
    const f = await h.start({ possessionType: 'mobile', deviceId: key });
    expect((await h.device(f.authToken)).body).toEqual({ result: 'finished', deviceId: key });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'true', phoneNumber: '2001004015', deviceId: key });
    const g = await h.start({ possessionType: 'mobile' });
    const r = await h.device(g.authToken);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^phoneNumber is required/);
  });

  it('a number that is no sandbox user is refused as Prove\'s sandbox does (8007)', async () => {
    const f = await h.start({ possessionType: 'mobile' });
    expect((await h.device(f.authToken, { phoneNumber: '2001004019' })).body).toEqual({ code: 8007, message: 'no test user found' });
  });

  it('a proveId from an earlier success names the number, on every possession type', async () => {
    const first = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    await h.device(first.authToken, { otp: '1234' });
    const { proveId } = (await h.status(first.correlationId)).body;
    const f = await h.start({ possessionType: 'desktop', proveId, finalTargetUrl: 'https://x.com' });
    await h.device(f.authToken, { instantLink: true });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'true', phoneNumber: '2001004014', proveId });
  });

  it('none with only clientRequestId: the key names the number, or bind does', async () => {
    const key = await register('2001004017');
    const f = await h.start({ possessionType: 'none' });
    await h.device(f.authToken, { deviceId: key });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'true', phoneNumber: '2001004017', deviceId: key });

    const g = await h.start({ possessionType: 'none' });
    const fresh = (await h.device(g.authToken)).body.deviceId;
    const pending = await h.status(g.correlationId);
    expect(pending.body.success).toBe('possession_required');
    expect(pending.body.phoneNumber).toBeUndefined();
    const bound = await h.bind(g.correlationId, '2001004014');
    expect(bound.body).toMatchObject({ success: 'true', phoneNumber: '2001004014', deviceId: fresh });
  });

  it('binding a phone-less none flow to a number that is no sandbox user is refused (8007)', async () => {
    const g = await h.start({ possessionType: 'none' });
    await h.device(g.authToken);
    await h.status(g.correlationId);
    expect((await h.bind(g.correlationId, '2001004019')).body).toEqual({ code: 8007, message: 'no test user found' });
  });
});

describe('phone-number change and resend', () => {
  it('mobile: another sandbox number with its code verifies that number', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect((await h.device(f.authToken, { phoneNumber: '2001004015', otp: '1234' })).body.result).toBe('finished');
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'true', phoneNumber: '2001004015' });
  });

  it('desktop: the Instant Link sent to the changed number verifies it', async () => {
    const f = await h.start({ possessionType: 'desktop', phoneNumber: '2001004014', finalTargetUrl: 'https://x.com' });
    expect((await h.device(f.authToken, { phoneNumber: '+12001004015', instantLink: true })).body).toEqual({ result: 'finished' });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'true', phoneNumber: '+12001004015' });
  });

  it('a change without the code sends an SMS and waits (retry); the code then verifies the new number', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect((await h.device(f.authToken, { phoneNumber: '2001004015', resend: true })).body).toEqual({ result: 'retry' });
    expect((await h.device(f.authToken, { otp: '1234' })).body.result).toBe('finished');
    expect((await h.status(f.correlationId)).body.phoneNumber).toBe('2001004015');
  });

  it('at most three send attempts: the first SMS and two more; a fourth fails the flow', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect((await h.device(f.authToken, { resend: true })).body).toEqual({ result: 'retry' });
    expect((await h.device(f.authToken, { phoneNumber: '2001004015', resend: true })).body).toEqual({ result: 'retry' });
    expect((await h.device(f.authToken, { resend: true })).body).toEqual({ result: 'failed' });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'false', evaluation: POSSESSION_INCOMPLETE });
  });

  it('three entries of different numbers: the third change is the fourth send and fails', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    await h.device(f.authToken, { phoneNumber: '2001004015', resend: true });
    await h.device(f.authToken, { phoneNumber: '2001004014', resend: true });
    expect((await h.device(f.authToken, { phoneNumber: '2001004015', otp: '1234' })).body).toEqual({ result: 'failed' });
  });

  it('a changed number that is no sandbox user is refused (8007) and the flow goes on', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect((await h.device(f.authToken, { phoneNumber: '2001004019', otp: '1234' })).body.code).toBe(8007);
    expect((await h.device(f.authToken, { otp: '1234' })).body.result).toBe('finished');
    expect((await h.status(f.correlationId)).body.phoneNumber).toBe('2001004014');
  });

  it('resend on a none flow, or phoneNumber on one, is refused', async () => {
    const f = await h.start({ possessionType: 'none', phoneNumber: '2001004014' });
    expect((await h.device(f.authToken, { resend: true })).body.code).toBe(8001);
    expect((await h.device(f.authToken, { phoneNumber: '2001004015' })).body.code).toBe(8001);
  });

  it('a resend restarts the code\'s window', async () => {
    let now = 1_000_000;
    const timed = await startEmulator({ now: () => now, otpWindowMs: 1000 });
    try {
      const f = await timed.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
      now += 900;
      await timed.device(f.authToken, { resend: true });
      now += 900; // 1800 ms after the first SMS, 900 ms after the second
      expect((await timed.device(f.authToken, { otp: '1234' })).body.result).toBe('finished');
    } finally {
      await timed.close();
    }
  });
});

describe('POST /v3/device/revoke', () => {
  it('revokes a key: the next flow on that device needs the SMS code again', async () => {
    const key = await register('2001004014');
    const r = await h.api('/v3/device/revoke', { clientRequestId: 'rev-1', deviceId: key });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ success: true });
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014', deviceId: key });
    const without = await h.device(f.authToken);
    expect(without.status).toBe(400);
    expect(without.body.message).toMatch(/^otp is required/);
    const d = await h.device(f.authToken, { otp: '1234' });
    expect(d.body.result).toBe('finished');
    expect(d.body.deviceId).not.toBe(key);
  });

  it('revoking again still answers success; a deviceId never issued is 404 8011', async () => {
    const key = await register('2001004015');
    await h.api('/v3/device/revoke', { clientRequestId: 'rev-2', deviceId: key });
    expect((await h.api('/v3/device/revoke', { clientRequestId: 'rev-3', deviceId: key })).body).toEqual({ success: true });
    const unknown = await h.api('/v3/device/revoke', { clientRequestId: 'rev-4', deviceId: 'never-issued' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ code: 8011, message: 'device not found' });
  });

  it.each([
    ['no clientRequestId', { deviceId: 'x' }, 'clientRequestId'],
    ['no deviceId', { clientRequestId: 'x' }, 'deviceId'],
    ['an empty deviceId', { clientRequestId: 'x', deviceId: '' }, 'deviceId'],
  ])('refuses %s (400 8001 naming the field)', async (_name, body, field) => {
    const r = await h.api('/v3/device/revoke', body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 8001, message: expect.stringMatching(new RegExp(`^${field}`)) });
  });

  it('needs an access token', async () => {
    expect((await h.api('/v3/device/revoke', { clientRequestId: 'x', deviceId: 'y' }, null)).status).toBe(401);
  });
});
