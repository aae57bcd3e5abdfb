/**
 * The project's Prove emulator on a free port, a client pointed at it, and the /sim/* routes
 * the tests drive. Every fixture is closed after its test.
 */
import { createProveEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { createProveClient, type ProveClientOptions } from '../../src/prove/index.js';

export const EMULATOR_CLIENT_ID = 'emulator-client';
export const EMULATOR_CLIENT_SECRET = 'emulator-secret';

export interface Stats {
  calls: Record<string, number>;
  responses: Record<string, Record<string, number>>;
  tokensIssued: number;
  rateLimited: number;
}

export interface FaultSpec {
  endpoint: '/token' | '/v3/unify' | '/v3/unify-status' | '/v3/unify-bind';
  count?: number;
  status?: number;
  body?: Record<string, unknown>;
  retryAfterSeconds?: number;
  latencyMs?: number;
  hang?: boolean;
  drop?: boolean;
}

const open: Array<() => Promise<void>> = [];

/** Closes every emulator started since the last call; use in afterEach. */
export async function closeEmulators(): Promise<void> {
  await Promise.all(open.splice(0).map((close) => close()));
}

/**
 * Short backoff so fault tests finish quickly. The per-attempt timeout stays generous (a loaded
 * CI machine can take a while for 100 concurrent calls); tests of hangs pass HANG_TIMEOUT.
 */
export const FAST: Partial<ProveClientOptions> = {
  timeoutMs: 2000,
  statusDeadlineMs: 3000,
  retry: { initialMs: 10, maxMs: 50, maxAttempts: 4 },
};

/** Per-attempt timeout for tests that inject hangs: each hang costs this much. */
export const HANG_TIMEOUT: Partial<ProveClientOptions> = { timeoutMs: 250 };

export async function startEmulator(emulatorOptions: EmulatorOptions = {}, clientOptions: Partial<ProveClientOptions> = {}) {
  // The 25/s limit is off unless a test asks for it: bursts here measure the adapter, not the limiter.
  const emulator = createProveEmulator({ rateLimitPerSecond: 0, ...emulatorOptions });
  const { url } = await emulator.listen({ port: 0 });
  open.push(() => emulator.close());

  const sim = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const newClient = (options: Partial<ProveClientOptions> = {}) =>
    createProveClient({
      serverURL: url,
      clientId: EMULATOR_CLIENT_ID,
      clientSecret: EMULATOR_CLIENT_SECRET,
      ...FAST,
      ...clientOptions,
      ...options,
    });

  return {
    url,
    client: newClient(),
    newClient,
    stats: () => sim<Stats>('GET', '/sim/stats'),
    resetStats: () => sim<Stats>('POST', '/sim/stats/reset'),
    fault: (spec: FaultSpec) => sim<unknown>('POST', '/sim/faults', spec),
    clearFaults: () => sim<unknown>('DELETE', '/sim/faults'),
    revokeTokens: () => sim<{ revoked: number }>('POST', '/sim/revoke-tokens'),
    authenticate: (body: { authToken: string; otp?: string; instantLink?: boolean; deviceId?: string; phoneNumber?: string }) =>
      sim<{ result: string; deviceId?: string }>('POST', '/sim/authenticate', body),
  };
}

export type EmulatorFixture = Awaited<ReturnType<typeof startEmulator>>;
