/**
 * Test fixture: a real emulator on an ephemeral port, and thin fetch wrappers that speak to it
 * the way a client would (status code + parsed body).
 */
import { randomUUID } from 'node:crypto';
import { createProveEmulator, type EmulatorOptions, type ProveEmulator } from '../../src/emulator/index.js';

export const CLIENT_ID = 'test-client';
export const CLIENT_SECRET = 'test-secret-value';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Harness {
  url: string;
  emulator: ProveEmulator;
  close(): Promise<void>;
  /** A fresh access token. */
  token(): Promise<string>;
  /** POST JSON to a /v3 endpoint with a (cached) token unless one is given. */
  api(path: string, body: unknown, token?: string | null): Promise<Reply>;
  /** Any request to the emulator. */
  request(path: string, init?: RequestInit): Promise<Reply>;
  /** POST JSON to a /sim route. */
  sim(path: string, body?: unknown): Promise<Reply>;
  /** unify, asserting 200. */
  start(body: Record<string, unknown>): Promise<{ correlationId: string; authToken: string }>;
  status(correlationId: string, extra?: Record<string, unknown>): Promise<Reply>;
  bind(correlationId: string, phoneNumber: string): Promise<Reply>;
  device(authToken: string, extra?: Record<string, unknown>): Promise<Reply>;
}

/**
 * Prove requires a clientRequestId on every unify: a test about something else gets one unless it
 * names the key itself (the tests of that rule send raw bodies through `request`).
 */
function withRequestId(path: string, body: unknown): unknown {
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  return path === '/v3/unify' && isObject && !('clientRequestId' in body) ? { clientRequestId: randomUUID(), ...body } : body;
}

async function toReply(res: Response): Promise<Reply> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body, headers: res.headers };
}

/** The rate limit is off unless a test asks for it: behaviour tests make bursts of calls. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Harness> {
  const emulator = createProveEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, rateLimitPerSecond: 0, ...options });
  const server = await emulator.listen({ port: 0 });
  const url = server.url;
  let cached: string | undefined;

  const request = async (path: string, init?: RequestInit): Promise<Reply> => toReply(await fetch(url + path, init));

  const token = async (): Promise<string> => {
    const r = await request('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
    });
    if (r.status !== 200) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.access_token as string;
  };

  const api = async (path: string, body: unknown, tok?: string | null): Promise<Reply> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (tok !== null) headers.authorization = `Bearer ${tok ?? (cached ??= await token())}`;
    return request(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(withRequestId(path, body)) });
  };

  const sim = (path: string, body?: unknown): Promise<Reply> =>
    request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });

  return {
    url,
    emulator,
    close: async () => {
      await server.close();
      await emulator.close();
    },
    token,
    api,
    request,
    sim,
    start: async (body) => {
      const r = await api('/v3/unify', body);
      if (r.status !== 200) throw new Error(`unify: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    status: (correlationId, extra = {}) => api('/v3/unify-status', { correlationId, ...extra }),
    bind: (correlationId, phoneNumber) => api('/v3/unify-bind', { correlationId, phoneNumber }),
    device: (authToken, extra = {}) => sim('/sim/authenticate', { authToken, ...extra }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The evaluation Prove sends for a failed possession check with one reason. */
export const failedWith = (code: number, text: string) => ({
  authentication: { result: 'fail', failureReasons: { [String(code)]: text } },
  risk: { result: 'pass' },
});
export const passed = { authentication: { result: 'pass' }, risk: { result: 'pass' } };
export const POSSESSION_INCOMPLETE = failedWith(9100, 'phone possession incomplete');
export const KEY_MISMATCH = failedWith(9101, 'phone number does not match the Prove Key');
