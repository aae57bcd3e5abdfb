/**
 * The raw SDK 0.9.6, used plainly, against the emulator. These tests pin the defects that make
 * the adapter own the bodies (prove-api.md). When a fixed SDK is installed they fail, which is
 * the signal to revisit src/prove/transport.ts.
 */
import { Proveapi } from '@prove-identity/prove-api';
import { ProveapiCore } from '@prove-identity/prove-api/core.js';
import { v3V3UnifyRequest } from '@prove-identity/prove-api/funcs/v3V3UnifyRequest.js';
import { SDKValidationError } from '@prove-identity/prove-api/models/errors/sdkvalidationerror.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CAPTURE_CLIENT_ID, CAPTURE_CLIENT_SECRET, startCaptureServer, type CaptureServer } from './capture-server.js';
import { EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, closeEmulators, startEmulator } from './emulator-fixture.js';

let capture: CaptureServer | undefined;
afterEach(async () => {
  await closeEmulators();
  await capture?.close();
  capture = undefined;
});

const security = { clientID: EMULATOR_CLIENT_ID, clientSecret: EMULATOR_CLIENT_SECRET };

/** The issue paths of the ZodError behind an SDKValidationError. */
function issuePaths(err: SDKValidationError): string[] {
  const cause = err.cause as { issues?: Array<{ path: Array<string | number> }> };
  return (cause.issues ?? []).map((i) => i.path.join('.'));
}

describe('@prove-identity/prove-api 0.9.6 as shipped', () => {
  it('Proveapi rejects a real 200 from /v3/unify with SDKValidationError on `success` (defect 1)', async () => {
    const emu = await startEmulator();
    const sdk = new Proveapi({ serverURL: emu.url, security });
    const err = await sdk.v3.v3UnifyRequest({ possessionType: 'mobile', phoneNumber: '2001004018', clientRequestId: 'defect-1' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(SDKValidationError);
    expect((err as SDKValidationError).rawMessage).toBe('Response validation failed');
    expect(issuePaths(err as SDKValidationError)).toContain('V3UnifyResponse.success');
    // The call itself succeeded on the wire: Prove answered 200 and opened a flow.
    expect((await emu.stats()).responses['/v3/unify']).toEqual({ '200': 1 });
  });

  it('the standalone function returns { ok: false } for the same 200', async () => {
    const emu = await startEmulator();
    const core = new ProveapiCore({ serverURL: emu.url, security });
    const result = await v3V3UnifyRequest(core, { possessionType: 'mobile', phoneNumber: '2001004018', clientRequestId: 'defect-1b' });
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.error).toBeInstanceOf(SDKValidationError);
  });

  it('unify-status 200 fails the same way', async () => {
    const emu = await startEmulator();
    const sdk = new Proveapi({ serverURL: emu.url, security });
    const started = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' });
    const err = await sdk.v3.v3UnifyStatusRequest({ correlationId: started.correlationId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SDKValidationError);
    expect(issuePaths(err as SDKValidationError).some((p) => p.endsWith('success'))).toBe(true);
  });

  it('drops checkReputation, deviceId, proveId, clientHumanId, emailAddress and ipAddress from the body (defect 2)', async () => {
    capture = await startCaptureServer((req) =>
      req.path === '/v3/unify' ? { json: { success: 'pending', correlationId: 'c', authToken: 'a' } } : undefined,
    );
    const sdk = new Proveapi({ serverURL: capture.url, security: { clientID: CAPTURE_CLIENT_ID, clientSecret: CAPTURE_CLIENT_SECRET } });
    const request = {
      possessionType: 'mobile',
      phoneNumber: '2001004014',
      clientRequestId: 'r',
      checkReputation: true,
      deviceId: 'd',
      proveId: 'p',
      clientHumanId: 'h',
      emailAddress: 'e@example.com',
      ipAddress: '192.0.2.1',
    };
    await sdk.v3.v3UnifyRequest(request as Parameters<typeof sdk.v3.v3UnifyRequest>[0]).catch(() => undefined);
    expect(JSON.parse(capture.to('/v3/unify')[0]!.body)).toEqual({ possessionType: 'mobile', phoneNumber: '2001004014', clientRequestId: 'r' });
  });

  it('four cold concurrent calls make four /token requests (defect 5)', async () => {
    const emu = await startEmulator();
    const sdk = new Proveapi({ serverURL: emu.url, security });
    await Promise.allSettled(Array.from({ length: 4 }, () => sdk.v3.v3UnifyRequest({ possessionType: 'mobile', phoneNumber: '2001004018', clientRequestId: 'defect-1' })));
    expect((await emu.stats()).calls['/token']).toBe(4);
  });
});
