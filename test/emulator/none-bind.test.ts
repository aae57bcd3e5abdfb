import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_MISMATCH, POSSESSION_INCOMPLETE, passed, startEmulator, type Harness } from './helpers.js';

const OUT_OF_ORDER = { code: 8003, message: 'step out of order' };

describe('possessionType none and unify-bind', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  /** none flow up to possession_required; returns the flow and the device's unbound key. */
  const toPossessionRequired = async (phoneNumber: string, extra: Record<string, unknown> = {}, deviceId?: string) => {
    const f = await h.start({ possessionType: 'none', phoneNumber, ...extra });
    const d = await h.device(f.authToken, deviceId ? { deviceId } : {});
    expect(d.body).toEqual({ result: 'finished', deviceId: expect.any(String) });
    const s = await h.status(f.correlationId);
    expect(s.status).toBe(200);
    expect(s.body.success).toBe('possession_required');
    return { ...f, deviceId: d.body.deviceId as string, statusBody: s.body };
  };

  it('no key: the device gets an unbound key, status possession_required, bind with the same number -> true', async () => {
    const f = await toPossessionRequired('2001004014', { clientHumanId: 'hh', clientRequestId: 'rr' });
    expect(f.statusBody).toEqual({ success: 'possession_required', phoneNumber: '2001004014', clientHumanId: 'hh', clientRequestId: 'rr', evaluation: passed });
    // Asking again does not end it.
    expect((await h.status(f.correlationId)).body.success).toBe('possession_required');
    const b = await h.bind(f.correlationId, '+12001004014');
    expect(b.status).toBe(200);
    expect(b.body).toEqual({
      success: 'true',
      phoneNumber: '2001004014',
      deviceId: f.deviceId,
      proveId: expect.any(String),
      clientHumanId: 'hh',
      clientRequestId: 'rr',
      evaluation: passed,
    });
    // Status now repeats the bind's answer.
    expect((await h.status(f.correlationId)).body).toEqual(b.body);
    // And the key is bound: a mobile flow for that number passes on the key alone.
    const m = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect((await h.device(m.authToken, { deviceId: f.deviceId })).body).toEqual({ result: 'finished', deviceId: f.deviceId });
  });

  it('a key that holds the number: status true with deviceId, no bind needed', async () => {
    const f = await toPossessionRequired('2001004015');
    expect((await h.bind(f.correlationId, '2001004015')).body.success).toBe('true');
    const g = await h.start({ possessionType: 'none', phoneNumber: '2001004015' });
    expect((await h.device(g.authToken, { deviceId: f.deviceId })).body).toEqual({ result: 'finished', deviceId: f.deviceId });
    const s = await h.status(g.correlationId);
    expect(s.body).toMatchObject({ success: 'true', deviceId: f.deviceId, proveId: expect.any(String) });
    expect((await h.bind(g.correlationId, '2001004015')).body).toEqual(OUT_OF_ORDER);
  });

  it('a key of another number: possession_required, and bind moves the key', async () => {
    const m = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const key = (await h.device(m.authToken, { otp: '1234' })).body.deviceId as string;
    const f = await toPossessionRequired('2001004015', {}, key);
    expect(f.deviceId).toBe(key);
    expect((await h.bind(f.correlationId, '2001004015')).body).toMatchObject({ success: 'true', deviceId: key });
    const old = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    await h.device(old.authToken, { deviceId: key });
    expect((await h.status(old.correlationId)).body.evaluation).toEqual(KEY_MISMATCH);
  });

  it('bind with another number -> false with 9100, final', async () => {
    const f = await toPossessionRequired('2001004014', { clientRequestId: 'x' });
    const b = await h.bind(f.correlationId, '2001004015');
    expect(b.status).toBe(200);
    expect(b.body).toEqual({ success: 'false', phoneNumber: '2001004014', clientRequestId: 'x', evaluation: POSSESSION_INCOMPLETE });
    expect((await h.status(f.correlationId)).body).toEqual(b.body);
    expect((await h.bind(f.correlationId, '2001004014')).body).toEqual(OUT_OF_ORDER);
    // The unbound key stayed unbound.
    const m = await h.start({ possessionType: 'mobile', phoneNumber: '2001004015' });
    const d = await h.device(m.authToken, { deviceId: f.deviceId });
    expect(d.status).toBe(400); // no number on the key: a full check (OTP) is needed
  });

  it('bind before any status call is out of order (8003) and does not spoil the flow', async () => {
    const f = await h.start({ possessionType: 'none', phoneNumber: '2001004014' });
    await h.device(f.authToken);
    const early = await h.bind(f.correlationId, '2001004014');
    expect(early.status).toBe(400);
    expect(early.body).toEqual(OUT_OF_ORDER);
    expect((await h.status(f.correlationId)).body.success).toBe('possession_required');
    expect((await h.bind(f.correlationId, '2001004014')).body.success).toBe('true');
  });

  it('bind on a mobile or desktop flow is out of order', async () => {
    const m = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    await h.device(m.authToken, { otp: '1234' });
    expect((await h.bind(m.correlationId, '2001004014')).body).toEqual(OUT_OF_ORDER);
    await h.status(m.correlationId);
    expect((await h.bind(m.correlationId, '2001004014')).body).toEqual(OUT_OF_ORDER);
    const d = await h.start({ possessionType: 'desktop', phoneNumber: '2001004014', finalTargetUrl: 'https://x.com' });
    await h.device(d.authToken, { instantLink: true });
    await h.status(d.correlationId);
    expect((await h.bind(d.correlationId, '2001004014')).body).toEqual(OUT_OF_ORDER);
  });

  it('bind after status ended the flow as false is out of order', async () => {
    const f = await h.start({ possessionType: 'none', phoneNumber: '2001004014' });
    expect((await h.status(f.correlationId)).body.success).toBe('false');
    expect((await h.bind(f.correlationId, '2001004014')).body).toEqual(OUT_OF_ORDER);
  });

  it('rebind:true asks for possession even when the key holds the number', async () => {
    const f = await toPossessionRequired('2001004014');
    await h.bind(f.correlationId, '2001004014');
    const g = await toPossessionRequired('2001004014', { rebind: true }, f.deviceId);
    expect(g.deviceId).toBe(f.deviceId);
    expect((await h.bind(g.correlationId, '2001004014')).body).toMatchObject({ success: 'true', deviceId: f.deviceId });
  });

  it('validates bind bodies', async () => {
    const f = await toPossessionRequired('2001004014');
    const missing = await h.api('/v3/unify-bind', { correlationId: f.correlationId });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ code: 8001, message: expect.stringContaining('phoneNumber') });
    const badPhone = await h.bind(f.correlationId, '200-100-4014');
    expect(badPhone.body).toEqual({ code: 8001, message: expect.stringContaining('phoneNumber') });
    const badId = await h.bind('not-a-uuid', '2001004014');
    expect(badId.status).toBe(400);
    expect(badId.body.code).toBe(8008);
    const unknown = await h.bind('00000000-0000-4000-8000-000000000000', '2001004014');
    expect(unknown.body.code).toBe(8008);
    // None of that spoiled the flow.
    expect((await h.bind(f.correlationId, '2001004014')).body.success).toBe('true');
  });
});
