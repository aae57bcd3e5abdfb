/**
 * The adapter against a capture server over real HTTP: every request field reaches the wire,
 * every response field reaches the caller, and odd answers are classified.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createProveClient, ProveError, type ProveClientOptions, type UnifyRequest } from '../../src/prove/index.js';
import {
  CAPTURE_CLIENT_ID,
  CAPTURE_CLIENT_SECRET,
  CAPTURE_TOKEN,
  startCaptureServer,
  tokenReply,
  type CaptureServer,
  type Responder,
} from './capture-server.js';

const CORRELATION_ID = '3f2b1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const AUTH_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl';

let server: CaptureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(respond: Responder, options: Partial<ProveClientOptions> = {}) {
  server = await startCaptureServer(respond);
  const client = createProveClient({
    serverURL: server.url,
    clientId: CAPTURE_CLIENT_ID,
    clientSecret: CAPTURE_CLIENT_SECRET,
    timeoutMs: 1000,
    statusDeadlineMs: 2000,
    retry: { initialMs: 10, maxMs: 50, maxAttempts: 3 },
    ...options,
  });
  return { server, client };
}

async function rejection(promise: Promise<unknown>): Promise<ProveError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProveError);
  return err as ProveError;
}

describe('field-by-field round trip', () => {
  it('unify: every request field on the wire, every response field back', async () => {
    const { server, client } = await setup((req) =>
      req.path === '/v3/unify'
        ? { json: { success: 'pending', correlationId: CORRELATION_ID, authToken: AUTH_TOKEN, somethingNew: 1 } }
        : undefined,
    );
    const request: Required<UnifyRequest> = {
      possessionType: 'desktop',
      phoneNumber: '2001004014',
      finalTargetUrl: 'https://example.com/finish?x=1',
      smsMessage: 'Your link: ####',
      clientRequestId: 'req-1',
      clientCustomerId: 'cust-1',
      clientHumanId: 'human-1',
      allowOTPRetry: true,
      rebind: false,
      checkReputation: true,
      deviceId: 'device-1',
      proveId: 'prove-1',
      emailAddress: 'someone@example.com',
      ipAddress: '192.0.2.10',
    };
    const started = await client.unify(request);
    expect(started).toEqual({ success: 'pending', correlationId: CORRELATION_ID, authToken: AUTH_TOKEN });

    const [wire] = server.to('/v3/unify');
    expect(JSON.parse(wire!.body)).toEqual(request);
    expect(wire!.method).toBe('POST');
    expect(wire!.headers['content-type']).toBe('application/json');
    expect(wire!.headers.authorization).toBe(`Bearer ${CAPTURE_TOKEN}`);
    // Only Prove's headers: nothing of ours that ties the request to its exchange reaches the wire.
    expect(Object.keys(wire!.headers).filter((name) => name.startsWith('x-'))).toEqual([]);
  });

  it('unify-status: request on the wire, every response field (evaluation, failureReasons, deviceId, proveId) back', async () => {
    const body = {
      success: 'true',
      phoneNumber: '2001004014',
      proveId: 'prove-123',
      deviceId: 'device-123',
      clientHumanId: 'human-1',
      clientRequestId: 'req-2',
      evaluation: {
        authentication: { result: 'pass', failureReasons: {} },
        risk: { result: 'fail', failureReasons: { '9101': 'phone number does not match the Prove Key', '9999': 'a code from the future' } },
        identification: { result: 'pass' },
      },
      notInTheDocs: { nested: true },
    };
    const { server, client } = await setup((req) => (req.path === '/v3/unify-status' ? { json: body } : undefined));
    const outcome = await client.unifyStatus({ correlationId: CORRELATION_ID, clientRequestId: 'req-2' });

    expect(JSON.parse(server.to('/v3/unify-status')[0]!.body)).toEqual({ correlationId: CORRELATION_ID, clientRequestId: 'req-2' });
    const { notInTheDocs: _ignored, ...expected } = body;
    expect(outcome).toEqual({ ...expected, evaluation: { ...body.evaluation, identification: { result: 'pass', failureReasons: {} } } });
  });

  it('unify-bind: request on the wire, response back', async () => {
    const { server, client } = await setup((req) =>
      req.path === '/v3/unify-bind'
        ? { json: { success: 'true', phoneNumber: '2001004015', deviceId: 'dev-9', proveId: 'pid-9', clientRequestId: 'req-3' } }
        : undefined,
    );
    const outcome = await client.unifyBind({ correlationId: CORRELATION_ID, phoneNumber: '2001004015', clientRequestId: 'req-3' });
    expect(JSON.parse(server.to('/v3/unify-bind')[0]!.body)).toEqual({
      correlationId: CORRELATION_ID,
      phoneNumber: '2001004015',
      clientRequestId: 'req-3',
    });
    expect(outcome).toEqual({ success: 'true', phoneNumber: '2001004015', deviceId: 'dev-9', proveId: 'pid-9', clientRequestId: 'req-3' });
  });

  it('accepts success as a JSON boolean and treats null fields as absent', async () => {
    let answer: unknown = { success: true, deviceId: null, evaluation: null };
    const { client } = await setup((req) => (req.path === '/v3/unify-status' ? { json: answer } : undefined));
    expect(await client.unifyStatus({ correlationId: CORRELATION_ID })).toEqual({ success: 'true' });
    answer = { success: false, evaluation: { authentication: { result: 'fail', failureReasons: { '9100': 'incomplete' } } } };
    expect(await client.unifyStatus({ correlationId: CORRELATION_ID })).toEqual({
      success: 'false',
      evaluation: { authentication: { result: 'fail', failureReasons: { '9100': 'incomplete' } } },
    });
  });

  it('sends the client credentials form through the SDK token function', async () => {
    const { server, client } = await setup(() => undefined);
    await client.checkCredentials();
    await client.checkCredentials();
    const token = server.to('/token');
    expect(token).toHaveLength(1);
    expect(token[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(token[0]!.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: CAPTURE_CLIENT_ID,
      client_secret: CAPTURE_CLIENT_SECRET,
    });
  });

  it('keeps concurrent calls apart: each caller gets its own response', async () => {
    const { client } = await setup((req) => {
      if (req.path !== '/v3/unify-status') return undefined;
      const { clientRequestId } = JSON.parse(req.body) as { clientRequestId: string };
      return { json: { success: 'true', clientRequestId }, delayMs: Math.floor(Math.random() * 30) };
    });
    const ids = Array.from({ length: 40 }, (_, i) => `req-${i}`);
    const outcomes = await Promise.all(ids.map((id) => client.unifyStatus({ correlationId: CORRELATION_ID, clientRequestId: id })));
    expect(outcomes.map((o) => o.clientRequestId)).toEqual(ids);
  });

  it('works under a base path, as with the embedded emulator', async () => {
    const { server } = await setup((req) =>
      req.path === '/prove-emulator/v3/unify-status' ? { json: { success: 'pending' } } : req.path === '/prove-emulator/token' ? tokenReply() : undefined,
    );
    const client = createProveClient({ serverURL: `${server.url}/prove-emulator`, clientId: 'a', clientSecret: 'bbbb' });
    expect(await client.unifyStatus({ correlationId: CORRELATION_ID })).toEqual({ success: 'pending' });
  });
});

describe('classification of odd answers', () => {
  it('400 keeps Prove message, code and the field it names, without phone numbers or secrets', async () => {
    const { server, client } = await setup((req) =>
      req.path === '/v3/unify'
        ? {
            status: 400,
            json: { code: 8001, message: `smsMessage rejected for 2001004014 (client ${CAPTURE_CLIENT_SECRET}, token ${CAPTURE_TOKEN})` },
          }
        : undefined,
    );
    const err = await rejection(client.unify({ possessionType: 'mobile', phoneNumber: '2001004014', smsMessage: 'hi' }));
    expect(err).toMatchObject({ kind: 'invalid_request', status: 400, proveCode: 8001, field: 'smsMessage', endpoint: '/v3/unify' });
    expect(err.message).toContain('smsMessage rejected');
    expect(err.message).not.toContain('2001004014');
    expect(err.message).not.toContain(CAPTURE_CLIENT_SECRET);
    expect(err.message).not.toContain(CAPTURE_TOKEN);
    expect(server.to('/v3/unify')).toHaveLength(1);
  });

  it('a 200 that is not Prove JSON is unavailable', async () => {
    const { client } = await setup((req) => (req.path === '/v3/unify-status' ? { raw: '<html>captive portal</html>' } : undefined));
    expect(await rejection(client.unifyStatus({ correlationId: CORRELATION_ID }))).toMatchObject({ kind: 'unavailable', status: 200 });
  });

  it('a unify 200 without an authToken still opens the flow (the newest SDK types authToken as optional)', async () => {
    const { client } = await setup((req) =>
      req.path === '/v3/unify' ? { json: { success: 'pending', correlationId: CORRELATION_ID } } : undefined,
    );
    expect(await client.unify({ possessionType: 'mobile', phoneNumber: '2001004014' })).toEqual({ success: 'pending', correlationId: CORRELATION_ID });
  });

  it('a unify 200 without a correlationId is unavailable: there is no flow to follow', async () => {
    const { client } = await setup((req) =>
      req.path === '/v3/unify' ? { json: { success: 'pending', authToken: 'eyJ.x.y' } } : undefined,
    );
    const err = await rejection(client.unify({ possessionType: 'mobile', phoneNumber: '2001004014' }));
    expect(err).toMatchObject({ kind: 'unavailable', status: 200 });
    expect(err.message).toContain('correlationId');
  });

  it('404 is unavailable and not retried, even on unify-status', async () => {
    const { server, client } = await setup((req) => (req.path === '/v3/unify-status' ? { status: 404, raw: 'no route' } : undefined));
    expect(await rejection(client.unifyStatus({ correlationId: CORRELATION_ID }))).toMatchObject({ kind: 'unavailable', status: 404 });
    expect(server.to('/v3/unify-status')).toHaveLength(1);
  });

  it('403 is unauthorized without a token refresh', async () => {
    const { server, client } = await setup((req) => (req.path === '/v3/unify-bind' ? { status: 403, json: { code: 8002, message: 'forbidden' } } : undefined));
    const err = await rejection(client.unifyBind({ correlationId: CORRELATION_ID, phoneNumber: '2001004015' }));
    expect(err).toMatchObject({ kind: 'unauthorized', status: 403, proveCode: 8002 });
    expect(server.to('/token')).toHaveLength(1);
    expect(server.to('/v3/unify-bind')).toHaveLength(1);
  });

  it('429 with an HTTP-date Retry-After past the deadline gives up at once', async () => {
    const retryAt = new Date(Date.now() + 60_000).toUTCString();
    const { server, client } = await setup((req) =>
      req.path === '/v3/unify-status' ? { status: 429, json: { message: 'slow down' }, headers: { 'retry-after': retryAt } } : undefined,
    );
    const started = Date.now();
    const err = await rejection(client.unifyStatus({ correlationId: CORRELATION_ID }));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.to('/v3/unify-status')).toHaveLength(1);
  });

  it('an unknown token_type is refused', async () => {
    const { client } = await setup((req) =>
      req.path === '/token' ? { json: { access_token: 'x', token_type: 'mac', expires_in: 3600 } } : undefined,
    );
    const err = await rejection(client.checkCredentials());
    expect(err).toMatchObject({ kind: 'unavailable', endpoint: '/token' });
    expect(err.message).toContain('Bearer');
  });

  it('the token endpoint refusing the client (400 invalid_client) is unauthorized', async () => {
    const { client } = await setup((req) => (req.path === '/token' ? { status: 400, json: { message: 'invalid_client' } } : undefined));
    expect(await rejection(client.checkCredentials())).toMatchObject({ kind: 'unauthorized', endpoint: '/token', status: 400 });
  });

  it('an answer too large to be Prove is a network error, not buffered, and unify is not sent again', async () => {
    const { server, client } = await setup((req) => (req.path === '/v3/unify' ? { raw: 'x'.repeat(3 * 1024 * 1024) } : undefined));
    const err = await rejection(client.unify({ possessionType: 'mobile', phoneNumber: '2001004014' }));
    expect(err).toMatchObject({ kind: 'network', endpoint: '/v3/unify' });
    expect(server.to('/v3/unify')).toHaveLength(1);
  });

  it('connection refused is a network error', async () => {
    const { server } = await setup(() => undefined);
    const url = server.url;
    await server.close();
    const client = createProveClient({ serverURL: url, clientId: 'a', clientSecret: 'bbbb', timeoutMs: 500 });
    const err = await rejection(client.unify({ possessionType: 'mobile', phoneNumber: '2001004014' }));
    expect(err).toMatchObject({ kind: 'network', endpoint: '/token' });
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('our own validation', () => {
  it('refuses malformed requests before anything is sent', async () => {
    const { server, client } = await setup(() => undefined);
    expect(await rejection(client.unifyStatus({ correlationId: 'NOT-A-UUID' }))).toMatchObject({
      kind: 'invalid_request',
      field: 'correlationId',
      status: undefined,
    });
    expect(await rejection(client.unify({ possessionType: 'desktop', phoneNumber: '2001004014' }))).toMatchObject({
      kind: 'invalid_request',
      field: 'finalTargetUrl',
    });
    const err = await rejection(client.unifyBind({ correlationId: CORRELATION_ID, phoneNumber: '200 100 4015' }));
    expect(err).toMatchObject({ kind: 'invalid_request', field: 'phoneNumber' });
    expect(err.message).not.toContain('4015');
    expect(server.requests).toHaveLength(0);
  });
});

describe('connections', () => {
  it('calls one after another share one keep-alive connection', async () => {
    const { server, client } = await setup((req) =>
      req.path === '/v3/unify-status' ? { json: { success: 'true', phoneNumber: '2001004014' } } : undefined,
    );
    for (let i = 0; i < 5; i++) await client.unifyStatus({ correlationId: CORRELATION_ID });
    expect(server.to('/v3/unify-status')).toHaveLength(5);
    expect(server.connections()).toBe(1);
  });
});

describe('token lifetime and cancellation', () => {
  it('reuses a token until shortly before expiry, then fetches a new one', async () => {
    let issued = 0;
    const { server, client } = await setup((req) => (req.path === '/token' ? tokenReply(`token-${++issued}`, 1) : undefined));
    await client.checkCredentials();
    await client.checkCredentials();
    expect(server.to('/token')).toHaveLength(1);
    // A 1 s token is kept for half its life (the 60 s margin is capped at half the lifetime).
    await new Promise((r) => setTimeout(r, 600));
    await client.checkCredentials();
    expect(server.to('/token')).toHaveLength(2);
  });

  it("rejects with the caller's abort reason and stops retrying", async () => {
    // Retry-After makes the backoff deterministic: the abort lands 100 ms into a 1 s wait.
    const { server, client } = await setup((req) =>
      req.path === '/v3/unify-status' ? { status: 429, json: {}, headers: { 'retry-after': '1' } } : undefined,
    );
    await client.checkCredentials();
    const controller = new AbortController();
    const pending = client.unifyStatus({ correlationId: CORRELATION_ID }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 100);
    await expect(pending).rejects.toThrow('caller gave up');
    await new Promise((r) => setTimeout(r, 1100));
    expect(server.to('/v3/unify-status')).toHaveLength(1);
  });

  it('never logs secrets, tokens, bodies or phone numbers', async () => {
    const lines: string[] = [];
    const record = (obj: object, msg?: string) => lines.push(JSON.stringify(obj) + (msg ?? ''));
    const logger = { debug: record, info: record, warn: record, error: record };
    let statusCalls = 0;
    const { client } = await setup(
      (req) => {
        if (req.path === '/v3/unify') return { json: { success: 'pending', correlationId: CORRELATION_ID, authToken: AUTH_TOKEN } };
        if (req.path === '/v3/unify-status') {
          return ++statusCalls === 1 ? { status: 502, raw: 'bad gateway' } : { json: { success: 'true', phoneNumber: '2001004014' } };
        }
        return undefined;
      },
      { logger },
    );
    await client.unify({ possessionType: 'mobile', phoneNumber: '2001004014' });
    await client.unifyStatus({ correlationId: CORRELATION_ID });
    expect(lines.length).toBeGreaterThan(3);
    const all = lines.join('\n');
    for (const secret of [CAPTURE_CLIENT_SECRET, CAPTURE_TOKEN, AUTH_TOKEN, '2001004014', CORRELATION_ID]) {
      expect(all).not.toContain(secret);
    }
  });
});
