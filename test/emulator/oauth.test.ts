import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, sleep, startEmulator, type Harness } from './helpers.js';

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields),
});
const unify = { possessionType: 'mobile', phoneNumber: '2001004014' };

describe('POST /token', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  it('issues a Bearer token for the configured client', async () => {
    const r = await h.request('/token', form({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 });
    expect(r.body.access_token.length).toBeGreaterThanOrEqual(32);
    expect(r.headers.get('cache-control')).toBe('no-store');
    // The token works on the API.
    const u = await h.api('/v3/unify', unify, r.body.access_token);
    expect(u.status).toBe(200);
  });

  it('accepts client credentials as HTTP Basic too', async () => {
    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
    const r = await h.request('/token', {
      ...form({ grant_type: 'client_credentials' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    });
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe('Bearer');
  });

  it.each([
    ['wrong secret', { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'nope' }],
    ['wrong client id', { grant_type: 'client_credentials', client_id: 'other', client_secret: CLIENT_SECRET }],
    ['missing secret', { grant_type: 'client_credentials', client_id: CLIENT_ID }],
    ['wrong grant', { grant_type: 'password', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }],
    ['no grant', { client_id: CLIENT_ID, client_secret: CLIENT_SECRET }],
  ])('refuses %s with 401 8002', async (_name, fields) => {
    const r = await h.request('/token', form(fields));
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ code: 8002, message: expect.any(String) });
    expect(JSON.stringify(r.body)).not.toContain(CLIENT_SECRET);
  });

  it('wants a form body, not JSON', async () => {
    const r = await h.request('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(8001);
  });

  it('answers 405 to GET', async () => {
    const r = await h.request('/token');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(r.body).toEqual({ code: expect.any(Number), message: expect.any(String) });
  });
});

describe('bearer tokens on /v3', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator({ tokenTtlSeconds: 1 });
  });
  afterAll(() => h.close());

  it.each(['/v3/unify', '/v3/unify-status', '/v3/unify-bind'])('%s without a token -> 401 8002', async (path) => {
    const r = await h.api(path, unify, null);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ code: 8002, message: expect.any(String) });
  });

  it('refuses an unknown token and a non-Bearer scheme', async () => {
    expect((await h.api('/v3/unify', unify, 'made-up')).status).toBe(401);
    const basic = await h.request('/v3/unify', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${await h.token()}` },
      body: JSON.stringify(unify),
    });
    expect(basic.status).toBe(401);
    expect(basic.body.code).toBe(8002);
  });

  it('expires tokens after tokenTtlSeconds', async () => {
    const t = await h.token();
    const r = await h.request('/token', form({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
    expect(r.body.expires_in).toBe(1);
    expect((await h.api('/v3/unify', unify, t)).status).toBe(200);
    await sleep(1100);
    const late = await h.api('/v3/unify', unify, t);
    expect(late.status).toBe(401);
    expect(late.body.code).toBe(8002);
  });

  it('POST /sim/revoke-tokens invalidates every issued token; a new one works', async () => {
    const a = await h.token();
    const b = await h.token();
    expect((await h.api('/v3/unify', unify, a)).status).toBe(200);
    const revoke = await h.sim('/sim/revoke-tokens');
    expect(revoke.status).toBe(200);
    expect(revoke.body.revoked).toBeGreaterThanOrEqual(2);
    expect((await h.api('/v3/unify', unify, a)).status).toBe(401);
    expect((await h.api('/v3/unify-status', { correlationId: '00000000-0000-4000-8000-000000000000' }, b)).status).toBe(401);
    expect((await h.api('/v3/unify', unify, await h.token())).status).toBe(200);
  });
});

describe('default credentials', () => {
  it('are emulator-client / emulator-secret, or EMULATOR_CLIENT_ID / EMULATOR_CLIENT_SECRET', async () => {
    const { createProveEmulator } = await import('../../src/emulator/index.js');
    const saved = { id: process.env.EMULATOR_CLIENT_ID, secret: process.env.EMULATOR_CLIENT_SECRET };
    const tokenStatus = async (id: string, secret: string, env?: { id: string; secret: string }) => {
      if (env) {
        process.env.EMULATOR_CLIENT_ID = env.id;
        process.env.EMULATOR_CLIENT_SECRET = env.secret;
      } else {
        delete process.env.EMULATOR_CLIENT_ID;
        delete process.env.EMULATOR_CLIENT_SECRET;
      }
      const em = createProveEmulator();
      const srv = await em.listen({ port: 0 });
      try {
        const res = await fetch(`${srv.url}/token`, form({ grant_type: 'client_credentials', client_id: id, client_secret: secret }));
        return res.status;
      } finally {
        await srv.close();
        await em.close();
      }
    };
    try {
      expect(await tokenStatus('emulator-client', 'emulator-secret')).toBe(200);
      expect(await tokenStatus('emulator-client', 'emulator-secret', { id: 'env-id', secret: 'env-secret' })).toBe(401);
      expect(await tokenStatus('env-id', 'env-secret', { id: 'env-id', secret: 'env-secret' })).toBe(200);
    } finally {
      if (saved.id === undefined) delete process.env.EMULATOR_CLIENT_ID;
      else process.env.EMULATOR_CLIENT_ID = saved.id;
      if (saved.secret === undefined) delete process.env.EMULATOR_CLIENT_SECRET;
      else process.env.EMULATOR_CLIENT_SECRET = saved.secret;
    }
  });
});
