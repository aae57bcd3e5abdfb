/** The three calls against the emulator's sandbox users: every response field reaches the caller. */
import { afterEach, describe, expect, it } from 'vitest';
import { ProveError } from '../../src/prove/index.js';
import { closeEmulators, startEmulator } from './emulator-fixture.js';

afterEach(closeEmulators);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('possession flows through the adapter', () => {
  it('mobile: OTP places a Prove Key; status carries deviceId, proveId, echoed ids and evaluation', async () => {
    const emu = await startEmulator();
    const started = await emu.client.unify({
      possessionType: 'mobile',
      phoneNumber: '2001004014',
      smsMessage: 'Code: ####',
      clientRequestId: 'req-mobile-1',
      clientCustomerId: 'cust-1',
      clientHumanId: 'human-1',
      allowOTPRetry: true,
      checkReputation: true,
      emailAddress: 'a@example.com',
      ipAddress: '192.0.2.1',
    });
    expect(started.success).toBe('pending');
    expect(started.correlationId).toMatch(UUID);
    expect(started.authToken!.length).toBeGreaterThan(10);

    const device = await emu.authenticate({ authToken: started.authToken!, otp: '1234' });
    expect(device.result).toBe('finished');

    const outcome = await emu.client.unifyStatus({ correlationId: started.correlationId, clientRequestId: 'req-mobile-1' });
    expect(outcome).toEqual({
      success: 'true',
      phoneNumber: '2001004014',
      proveId: expect.any(String),
      deviceId: device.deviceId,
      clientHumanId: 'human-1',
      clientRequestId: 'req-mobile-1',
      evaluation: {
        authentication: { result: 'pass', failureReasons: {} },
        risk: { result: 'pass', failureReasons: {} },
      },
    });
  });

  it("a key holding another number: false with failureReasons { '9101': … }", async () => {
    const emu = await startEmulator();
    const first = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const { deviceId } = await emu.authenticate({ authToken: first.authToken!, otp: '1234' });
    await emu.client.unifyStatus({ correlationId: first.correlationId });

    const second = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004015', deviceId });
    await emu.authenticate({ authToken: second.authToken!, deviceId });
    const outcome = await emu.client.unifyStatus({ correlationId: second.correlationId });
    expect(outcome.success).toBe('false');
    expect(outcome.deviceId).toBeUndefined();
    expect(outcome.evaluation?.authentication).toEqual({
      result: 'fail',
      failureReasons: { '9101': expect.stringContaining('Prove Key') },
    });
  });

  it('status before the device finished: false with 9100', async () => {
    const emu = await startEmulator();
    const started = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004015' });
    const outcome = await emu.client.unifyStatus({ correlationId: started.correlationId });
    expect(outcome).toMatchObject({ success: 'false', evaluation: { authentication: { result: 'fail', failureReasons: { '9100': expect.any(String) } } } });
  });

  it('none: possession_required, then unify-bind returns the bound key', async () => {
    const emu = await startEmulator();
    const started = await emu.client.unify({ possessionType: 'none', phoneNumber: '2001004015', clientRequestId: 'req-none' });
    await emu.authenticate({ authToken: started.authToken! });
    const status = await emu.client.unifyStatus({ correlationId: started.correlationId });
    expect(status.success).toBe('possession_required');

    const bound = await emu.client.unifyBind({ correlationId: started.correlationId, phoneNumber: '2001004015', clientRequestId: 'req-none' });
    expect(bound).toEqual({
      success: 'true',
      phoneNumber: '2001004015',
      proveId: expect.any(String),
      deviceId: expect.any(String),
      clientRequestId: 'req-none',
      evaluation: { authentication: { result: 'pass', failureReasons: {} }, risk: { result: 'pass', failureReasons: {} } },
    });
  });

  it('desktop: Instant Link, no key', async () => {
    const emu = await startEmulator();
    const started = await emu.client.unify({ possessionType: 'desktop', phoneNumber: '2001004014', finalTargetUrl: 'https://example.com/done' });
    await emu.authenticate({ authToken: started.authToken!, instantLink: true });
    const outcome = await emu.client.unifyStatus({ correlationId: started.correlationId });
    expect(outcome.success).toBe('true');
    expect(outcome.deviceId).toBeUndefined();
  });

  it('2001004018 passes without a client step', async () => {
    const emu = await startEmulator();
    const started = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' });
    expect(await emu.client.unifyStatus({ correlationId: started.correlationId })).toMatchObject({ success: 'true', phoneNumber: '2001004018' });
  });

  it("Prove's 400s become invalid_request naming the field", async () => {
    const emu = await startEmulator();
    const noUser = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001009999' }).catch((e: unknown) => e);
    expect(noUser).toBeInstanceOf(ProveError);
    expect(noUser).toMatchObject({ kind: 'invalid_request', status: 400, proveCode: 8007 });
    expect((noUser as Error).message).not.toContain('2001009999');

    const unknownFlow = await emu.client
      .unifyStatus({ correlationId: '00000000-0000-4000-8000-000000000000' })
      .catch((e: unknown) => e);
    expect(unknownFlow).toMatchObject({ kind: 'invalid_request', status: 400, proveCode: 8008, field: 'correlationId' });
    // 400 is not transient: one call only.
    expect((await emu.stats()).calls['/v3/unify-status']).toBe(1);

    const started = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const outOfOrder = await emu.client
      .unifyBind({ correlationId: started.correlationId, phoneNumber: '2001004014' })
      .catch((e: unknown) => e);
    expect(outOfOrder).toMatchObject({ kind: 'invalid_request', status: 400, proveCode: 8003 });
  });
});
