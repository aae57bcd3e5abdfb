/**
 * Injected faults: unify-status is retried and recovers; unify and unify-bind are sent exactly
 * once and fail with the right kind. Together with the other files, every ProveError kind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ProveError, type ProveErrorKind } from '../../src/prove/index.js';
import { HANG_TIMEOUT, closeEmulators, startEmulator, type EmulatorFixture, type FaultSpec } from './emulator-fixture.js';

afterEach(closeEmulators);

/** A flow whose status is `true` at once (sandbox user 2001004018), with the token already held. */
async function passingFlow(emu: EmulatorFixture): Promise<string> {
  const started = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' });
  await emu.resetStats();
  return started.correlationId;
}

type Fault = Omit<FaultSpec, 'endpoint' | 'count'>;
const FAULTS: Array<{ name: string; fault: Fault; kind: ProveErrorKind; status?: number }> = [
  { name: '500', fault: { status: 500 }, kind: 'unavailable', status: 500 },
  { name: '503 with an HTML body', fault: { status: 503, body: { html: '<h1>down</h1>' } }, kind: 'unavailable', status: 503 },
  { name: '429 with Retry-After', fault: { status: 429, retryAfterSeconds: 1 }, kind: 'rate_limited', status: 429 },
  { name: 'a hang (our timeout)', fault: { hang: true }, kind: 'timeout' },
  { name: 'a dropped connection', fault: { drop: true }, kind: 'network' },
];

describe('unify-status is retried', () => {
  it.each(FAULTS)('recovers from $name', async ({ fault, kind }) => {
    const emu = await startEmulator({}, kind === 'timeout' ? HANG_TIMEOUT : {});
    const correlationId = await passingFlow(emu);
    // Two faults in a row, except 429 whose Retry-After (1 s) would make it slow.
    const count = kind === 'rate_limited' ? 1 : 2;
    await emu.fault({ endpoint: '/v3/unify-status', count, ...fault });
    const outcome = await emu.client.unifyStatus({ correlationId });
    expect(outcome.success).toBe('true');
    expect((await emu.stats()).calls['/v3/unify-status']).toBe(count + 1);
  });

  it('waits as long as Retry-After says', async () => {
    const emu = await startEmulator();
    const correlationId = await passingFlow(emu);
    await emu.fault({ endpoint: '/v3/unify-status', count: 1, status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await emu.client.unifyStatus({ correlationId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const emu = await startEmulator();
    const correlationId = await passingFlow(emu);
    await emu.fault({ endpoint: '/v3/unify-status', count: 10, status: 502 });
    const err = await emu.client.unifyStatus({ correlationId }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable', status: 502, endpoint: '/v3/unify-status' });
    expect((await emu.stats()).calls['/v3/unify-status']).toBe(4);
  });

  it('gives up at the deadline, however many attempts remain', async () => {
    const emu = await startEmulator({}, { timeoutMs: 300, statusDeadlineMs: 800, retry: { initialMs: 10, maxMs: 20, maxAttempts: 50 } });
    const correlationId = await passingFlow(emu);
    await emu.fault({ endpoint: '/v3/unify-status', count: 50, hang: true });
    const started = Date.now();
    const err = await emu.client.unifyStatus({ correlationId }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toMatchObject({ kind: 'timeout', endpoint: '/v3/unify-status' });
    expect(elapsed).toBeGreaterThanOrEqual(750);
    expect(elapsed).toBeLessThan(1300);
    expect((await emu.stats()).calls['/v3/unify-status']).toBeLessThanOrEqual(4);
  });

  it('does not wait for a Retry-After past the deadline', async () => {
    const emu = await startEmulator({}, { statusDeadlineMs: 1000 });
    const correlationId = await passingFlow(emu);
    await emu.fault({ endpoint: '/v3/unify-status', count: 1, status: 429, retryAfterSeconds: 30 });
    const started = Date.now();
    const err = await emu.client.unifyStatus({ correlationId }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 30 });
    expect(Date.now() - started).toBeLessThan(500);
    expect((await emu.stats()).calls['/v3/unify-status']).toBe(1);
  });
});

describe.each(['/v3/unify', '/v3/unify-bind'] as const)('%s is never retried', (endpoint) => {
  it.each(FAULTS)('$name -> $kind after exactly one call', async ({ fault, kind, status }) => {
    const emu = await startEmulator({}, kind === 'timeout' ? HANG_TIMEOUT : {});
    const correlationId = await passingFlow(emu);
    await emu.fault({ endpoint, count: 5, ...fault });
    const call =
      endpoint === '/v3/unify'
        ? emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004014' })
        : emu.client.unifyBind({ correlationId, phoneNumber: '2001004018' });
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProveError);
    expect(err).toMatchObject({ kind, endpoint, status });
    if (kind === 'rate_limited') expect((err as ProveError).retryAfterSeconds).toBe(1);
    // Held back a moment so a (wrong) late retry would have been counted.
    await new Promise((r) => setTimeout(r, 50));
    expect((await emu.stats()).calls[endpoint]).toBe(1);
  });
});

describe("the emulator's own rate limit", () => {
  it('is rate_limited with Retry-After on unify', async () => {
    const emu = await startEmulator({ rateLimitPerSecond: 3 });
    await emu.client.checkCredentials();
    const settled = await Promise.allSettled(
      Array.from({ length: 5 }, () => emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' })),
    );
    const refused = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as ProveError);
    expect(refused).toHaveLength(2);
    for (const err of refused) expect(err).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterSeconds: 1 });
    expect((await emu.stats()).calls['/v3/unify']).toBe(5);
  });
});

describe('network', () => {
  it('an emulator that is gone is a network error', async () => {
    const emu = await startEmulator();
    await closeEmulators();
    const err = await emu.client.unify({ possessionType: 'mobile', phoneNumber: '2001004018' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'network' });
  });
});
