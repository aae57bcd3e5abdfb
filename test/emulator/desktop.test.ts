import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSSESSION_INCOMPLETE, passed, startEmulator, type Harness } from './helpers.js';

const desktop = (phoneNumber: string, extra: Record<string, unknown> = {}) => ({
  possessionType: 'desktop',
  phoneNumber,
  finalTargetUrl: 'https://example.com/done',
  ...extra,
});

describe('desktop possession (Instant Link)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  it('instantLink:true finishes without a key; status true without deviceId', async () => {
    const f = await h.start(desktop('2001004014', { clientHumanId: 'h1' }));
    const d = await h.device(f.authToken, { instantLink: true });
    expect(d.body).toEqual({ result: 'finished' });
    const s = await h.status(f.correlationId);
    expect(s.body).toEqual({ success: 'true', phoneNumber: '2001004014', proveId: expect.any(String), clientHumanId: 'h1', clientRequestId: expect.any(String), evaluation: passed });
  });

  it('ignores the Prove Key, even one of another number', async () => {
    const m = await h.start({ possessionType: 'mobile', phoneNumber: '2001004015' });
    const key = (await h.device(m.authToken, { otp: '1234' })).body.deviceId;
    const f = await h.start(desktop('2001004014'));
    expect((await h.device(f.authToken, { instantLink: true, deviceId: key })).body).toEqual({ result: 'finished' });
    expect((await h.status(f.correlationId)).body.success).toBe('true');
  });

  it('instantLink:false fails with 9100', async () => {
    const f = await h.start(desktop('2001004015'));
    expect((await h.device(f.authToken, { instantLink: false })).body).toEqual({ result: 'failed' });
    expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'false', evaluation: POSSESSION_INCOMPLETE });
  });

  it('an OTP is no Instant Link: fails', async () => {
    const f = await h.start(desktop('2001004014'));
    expect((await h.device(f.authToken, { otp: '1234' })).body).toEqual({ result: 'failed' });
  });

  it('instantLink must be a boolean', async () => {
    const f = await h.start(desktop('2001004014'));
    const d = await h.device(f.authToken, { instantLink: 'yes' });
    expect(d.status).toBe(400);
    expect(d.body).toEqual({ code: 8001, message: expect.stringContaining('instantLink') });
  });
});
