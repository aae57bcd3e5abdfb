import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSSESSION_INCOMPLETE, passed, startEmulator, type Harness } from './helpers.js';

describe('unify-status', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  it.each([
    ['2001004018', 'mobile'],
    ['+12001004018', 'desktop'],
    ['+2001004029', 'none'],
    ['2001004018', 'none'],
  ])('%s (%s) passes at once without any client step, no deviceId', async (phoneNumber, possessionType) => {
    const f = await h.start({ possessionType, phoneNumber, finalTargetUrl: 'https://x.com', clientRequestId: 'c1' });
    const s = await h.status(f.correlationId);
    expect(s.status).toBe(200);
    expect(s.body).toEqual({ success: 'true', phoneNumber, proveId: expect.any(String), clientRequestId: 'c1', evaluation: passed });
    expect((await h.status(f.correlationId)).body).toEqual(s.body);
  });

  it.each(['2001004014', '2001004015', '2001004016'])('status before the client finished ends %s as false 9100', async (phoneNumber) => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber });
    const s = await h.status(f.correlationId);
    expect(s.status).toBe(200);
    expect(s.body).toEqual({ success: 'false', phoneNumber, clientRequestId: expect.any(String), evaluation: POSSESSION_INCOMPLETE });
    // The session is over: the device can no longer authenticate, and status stays false.
    const d = await h.device(f.authToken, { otp: '1234' });
    expect(d.status).toBe(400);
    expect(d.body).toEqual({ code: 8003, message: 'already completed' });
    expect((await h.status(f.correlationId)).body).toEqual(s.body);
  });

  it('also ends a none flow before the client finished, and a desktop one', async () => {
    for (const possessionType of ['none', 'desktop']) {
      const f = await h.start({ possessionType, phoneNumber: '2001004014', finalTargetUrl: 'https://x.com' });
      expect((await h.status(f.correlationId)).body).toMatchObject({ success: 'false', evaluation: POSSESSION_INCOMPLETE });
      expect((await h.device(f.authToken, { instantLink: true })).status).toBe(400);
    }
  });

  it('is idempotent after true: same answer, and the device cannot authenticate again', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    await h.device(f.authToken, { otp: '1234' });
    const first = await h.status(f.correlationId);
    expect(first.body.success).toBe('true');
    expect((await h.status(f.correlationId, { clientRequestId: 'again' })).body).toEqual(first.body);
    expect((await h.device(f.authToken, { otp: '1234' })).body).toEqual({ code: 8003, message: 'already completed' });
  });

  it('a finished device cannot authenticate twice even before status', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    await h.device(f.authToken, { otp: '1234' });
    expect((await h.device(f.authToken, { otp: '1234' })).body.message).toBe('already completed');
    const g = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    await h.device(g.authToken, { otp: '0000' });
    expect((await h.device(g.authToken, { otp: '1234' })).body.message).toBe('already completed');
  });

  it.each([
    ['uppercase hex', 'E0EE0B56-02F0-4A20-AE43-01E831B6D766'],
    ['no dashes', 'e0ee0b5602f04a20ae4301e831b6d766'],
    ['garbage', 'hello'],
    ['empty', ''],
    ['unknown but well-formed', '00000000-0000-4000-8000-000000000000'],
  ])('refuses a bad correlationId (%s) with 400 8008', async (_name, correlationId) => {
    const r = await h.status(correlationId);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 8008, message: expect.any(String) });
  });

  it('an uppercased real correlationId is refused (the pattern is lowercase only)', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004018' });
    expect((await h.status(f.correlationId.toUpperCase())).body.code).toBe(8008);
    expect((await h.status(f.correlationId)).body.success).toBe('true');
  });

  it('refuses a missing or non-string correlationId with 8001', async () => {
    const missing = await h.api('/v3/unify-status', {});
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ code: 8001, message: expect.stringContaining('correlationId') });
    expect((await h.api('/v3/unify-status', { correlationId: 5 })).body.code).toBe(8001);
    expect((await h.api('/v3/unify-status', 'nope')).body.code).toBe(8001);
  });
});

describe('/sim/authenticate refusals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  it('refuses a missing, malformed or tampered authToken with 400', async () => {
    const missing = await h.sim('/sim/authenticate', {});
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ code: 8001, message: expect.stringContaining('authToken') });
    expect((await h.device('not.a.jwt', { otp: '1234' })).status).toBe(400);
    expect((await h.device('garbage', { otp: '1234' })).status).toBe(400);

    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const [header, payload, signature] = f.authToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const other = await h.start({ possessionType: 'mobile', phoneNumber: '2001004015' });
    claims.sub = JSON.parse(Buffer.from(other.authToken.split('.')[1]!, 'base64url').toString()).sub;
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const r = await h.device(forged, { otp: '1234' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: expect.any(Number), message: expect.stringContaining('authToken') });
    // The genuine token still works.
    expect((await h.device(f.authToken, { otp: '1234' })).body.result).toBe('finished');
  });

  it('refuses an authToken from another emulator instance', async () => {
    const other = await startEmulator();
    try {
      const f = await other.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
      const r = await h.device(f.authToken, { otp: '1234' });
      expect(r.status).toBe(400);
      expect(r.body.message).toContain('authToken');
    } finally {
      await other.close();
    }
  });

  it('checks field types', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const r = await h.device(f.authToken, { otp: 1234 });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 8001, message: expect.stringContaining('otp') });
    const bad = await h.device(f.authToken, { otp: '1234', phoneNumber: 'x y' });
    expect(bad.body).toEqual({ code: 8001, message: expect.stringContaining('phoneNumber') });
  });
});
