/** OAuth against the emulator: one /token for a cold burst, one refresh after a 401, refused credentials. */
import { afterEach, describe, expect, it } from 'vitest';
import { ProveError } from '../../src/prove/index.js';
import { EMULATOR_CLIENT_SECRET, closeEmulators, startEmulator } from './emulator-fixture.js';

afterEach(closeEmulators);

describe('token', () => {
  it('100 cold concurrent calls make exactly one /token request', async () => {
    const emu = await startEmulator();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018', clientRequestId: `burst-${i}` })),
    );
    expect(new Set(results.map((r) => r.correlationId)).size).toBe(100);
    const stats = await emu.stats();
    expect(stats.calls['/token']).toBe(1);
    expect(stats.tokensIssued).toBe(1);
    expect(stats.calls['/v3/unify']).toBe(100);
    expect(stats.responses['/v3/unify']).toEqual({ '200': 100 });
  });

  it('a 401 mid-run (tokens revoked) costs one refresh and one retry per call in flight', async () => {
    const emu = await startEmulator();
    const start = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' });
    await emu.revokeTokens();
    await emu.resetStats();

    const outcomes = await Promise.all(Array.from({ length: 20 }, () => emu.client.unifyStatus({ correlationId: start.correlationId })));
    expect(outcomes.every((o) => o.success === 'true')).toBe(true);
    const stats = await emu.stats();
    expect(stats.calls['/token']).toBe(1);
    expect(stats.responses['/v3/unify-status']).toEqual({ '401': 20, '200': 20 });
  });

  it('unify itself is sent again once after a 401 (the request was refused, so no flow was opened)', async () => {
    const emu = await startEmulator();
    await emu.client.checkCredentials();
    await emu.revokeTokens();
    const started = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' });
    expect(started.success).toBe('pending');
    const stats = await emu.stats();
    expect(stats.calls['/token']).toBe(2);
    expect(stats.responses['/v3/unify']).toEqual({ '401': 1, '200': 1 });
  });

  it('a second 401 is unauthorized: one refresh, no third attempt', async () => {
    const emu = await startEmulator();
    await emu.fault({ endpoint: '/v3/unify', count: 2, status: 401, body: { code: 8002, message: 'invalid access token' } });
    const err = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProveError);
    expect(err).toMatchObject({ kind: 'unauthorized', status: 401, endpoint: '/v3/unify' });
    const stats = await emu.stats();
    expect(stats.calls['/token']).toBe(2);
    expect(stats.calls['/v3/unify']).toBe(2);
  });

  it('wrong credentials are unauthorized, and the secret is in no message', async () => {
    const emu = await startEmulator();
    const client = emu.newClient({ clientSecret: 'not-the-secret' });
    const check = await client.checkCredentials().catch((e: unknown) => e);
    expect(check).toMatchObject({ kind: 'unauthorized', endpoint: '/token', status: 401 });
    const call = await client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' }).catch((e: unknown) => e);
    expect(call).toMatchObject({ kind: 'unauthorized', endpoint: '/token' });
    for (const e of [check, call]) {
      expect((e as Error).message).not.toContain('not-the-secret');
      expect((e as Error).message).not.toContain(EMULATOR_CLIENT_SECRET);
    }
    const stats = await emu.stats();
    expect(stats.calls['/token']).toBe(2);
    expect(stats.calls['/v3/unify']).toBe(0);
  });

  it('checkCredentials reuses the token the calls use', async () => {
    const emu = await startEmulator();
    await emu.client.checkCredentials();
    await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' });
    await emu.client.checkCredentials();
    expect((await emu.stats()).calls['/token']).toBe(1);
  });

  it('a failing token endpoint fails the call before anything is sent, and the next call tries again', async () => {
    const emu = await startEmulator();
    await emu.fault({ endpoint: '/token', count: 1, status: 503 });
    const err = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable', status: 503, endpoint: '/token' });
    expect((await emu.stats()).calls['/v3/unify']).toBe(0);
    await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' });
    expect((await emu.stats()).calls['/token']).toBe(2);
  });

  it('a hanging token endpoint is bounded by the unify-status deadline', async () => {
    // The shared token fetch may take 2 s; this caller has only 600 ms in all.
    const emu = await startEmulator({}, { timeoutMs: 2000, statusDeadlineMs: 600, retry: { initialMs: 10, maxMs: 20, maxAttempts: 10 } });
    await emu.fault({ endpoint: '/token', count: 10, hang: true });
    const started = Date.now();
    const err = await emu.client.unifyStatus({ correlationId: '00000000-0000-4000-8000-000000000000' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout', endpoint: '/token' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await emu.stats()).calls['/v3/unify-status']).toBe(0);
  });

  it('a token that expires is replaced before it is refused', async () => {
    const emu = await startEmulator({ tokenTtlSeconds: 1 });
    const started = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' });
    await new Promise((r) => setTimeout(r, 600));
    await emu.client.unifyStatus({ correlationId: started.correlationId });
    const stats = await emu.stats();
    expect(stats.calls['/token']).toBe(2);
    expect(stats.responses['/v3/unify-status']).toEqual({ '200': 1 });
  });
});
