import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startEmulator, type Harness } from './helpers.js';

const unify = { possessionType: 'mobile', phoneNumber: '2001004014', clientRequestId: 'rate-limit-test' };

describe('/sim/stats', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  it('counts calls per endpoint, statuses per endpoint and tokens, including faulted calls; reset zeroes', async () => {
    const reset = await h.sim('/sim/stats/reset');
    expect(reset.status).toBe(200);
    const zero = await h.request('/sim/stats');
    const { regions: zeroRegions, ...zeroTotals } = zero.body;
    expect(zeroRegions.eu).toEqual(zeroTotals);
    expect(zeroTotals).toEqual({
      calls: { '/token': 0, '/v3/unify': 0, '/v3/unify-status': 0, '/v3/unify-bind': 0, '/v3/device/revoke': 0 },
      responses: {},
      tokensIssued: 0,
      rateLimited: 0,
      unifyPerformed: {},
    });

    const token = await h.token(); // /token 200
    const f = await h.start(unify); // unify 200 (the harness also fetched its own token: /token 200)
    await h.api('/v3/unify', { possessionType: 'mobile', phoneNumber: '5550001111' }); // unify 400
    await h.api('/v3/unify', unify, 'bogus'); // unify 401
    await h.sim('/sim/faults', { endpoint: '/v3/unify-status', count: 1, status: 503 });
    await h.status(f.correlationId, {}); // status 503 (faulted)
    await h.status(f.correlationId); // status 200 (false: before the client)
    await h.bind(f.correlationId, '2001004014'); // bind 400
    await h.request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' }); // token 401
    await h.device(f.authToken, { otp: '1234' }); // /sim routes are not counted
    expect(token).toBeTruthy();

    const s = await h.request('/sim/stats');
    const { regions, ...totals } = s.body;
    // Every call came through the root door; the regional doors saw none.
    expect(regions.global).toEqual(totals);
    expect(regions.us).toEqual(zeroTotals);
    expect(totals).toEqual({
      calls: { '/token': 3, '/v3/unify': 3, '/v3/unify-status': 2, '/v3/unify-bind': 1, '/v3/device/revoke': 0 },
      responses: {
        '/token': { '200': 2, '401': 1 },
        '/v3/unify': { '200': 1, '400': 1, '401': 1 },
        '/v3/unify-status': { '200': 1, '503': 1 },
        '/v3/unify-bind': { '400': 1 },
      },
      tokensIssued: 2,
      rateLimited: 0,
      // One unify session opened, without a clientRequestId.
      unifyPerformed: { 'rate-limit-test': 1 },
    });

    await h.sim('/sim/stats/reset');
    expect((await h.request('/sim/stats')).body.calls['/v3/unify']).toBe(0);
  });

  it('counts hung and dropped calls as calls', async () => {
    await h.sim('/sim/stats/reset');
    await h.sim('/sim/faults', { endpoint: '/v3/unify', count: 1, drop: true });
    await h.sim('/sim/faults', { endpoint: '/v3/unify', count: 1, hang: true });
    const token = await h.token();
    const call = (signal?: AbortSignal) =>
      fetch(`${h.url}/v3/unify`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(unify),
        signal,
      });
    await expect(call()).rejects.toThrow();
    await expect(call(AbortSignal.timeout(200))).rejects.toThrow();
    const s = await h.request('/sim/stats');
    expect(s.body.calls['/v3/unify']).toBe(2);
    expect(s.body.responses['/v3/unify']).toBeUndefined();
  });
});

describe('rate limit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator({ rateLimitPerSecond: 5 });
  });
  afterAll(() => h.close());

  it('answers 429 with Retry-After: 1 above the limit per second, and recovers', async () => {
    await h.sim('/sim/stats/reset');
    const token = await h.token();
    const results = await Promise.all(Array.from({ length: 8 }, () => h.api('/v3/unify', unify, token)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const limited = results.find((r) => r.status === 429)!;
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toEqual({ code: expect.any(Number), message: expect.any(String) });
    const s = await h.request('/sim/stats');
    expect(s.body.rateLimited).toBe(3);
    expect(s.body.calls['/v3/unify']).toBe(8);
    expect(s.body.responses['/v3/unify']).toEqual({ '200': 5, '429': 3 });

    await sleep(1050);
    expect((await h.api('/v3/unify', unify, token)).status).toBe(200);
  });

  it('spans all /v3 endpoints but not /token or /sim', async () => {
    await sleep(1050);
    const token = await h.token();
    const f = await h.start(unify);
    await h.status(f.correlationId); // 2 used
    for (let i = 0; i < 3; i++) await h.bind(f.correlationId, '2001004014'); // 5 used
    expect((await h.status(f.correlationId)).status).toBe(429);
    expect((await h.bind(f.correlationId, '2001004014')).status).toBe(429);
    // Tokens and simulation routes are unaffected.
    expect(await h.token()).toEqual(expect.any(String));
    expect((await h.request('/sim/users')).status).toBe(200);
    expect(token).toBeTruthy();
  });

  it('slides over one second (checked with the injected clock)', async () => {
    let clock = 1_000_000;
    const c = await startEmulator({ rateLimitPerSecond: 3, now: () => clock });
    try {
      const token = await c.token();
      const call = async () => (await c.api('/v3/unify', unify, token)).status;
      expect([await call(), await call()]).toEqual([200, 200]); // t = 0
      clock += 600;
      expect([await call(), await call()]).toEqual([200, 429]); // t = 600: 3 in the last second
      clock += 399;
      expect(await call()).toBe(429); // t = 999: the calls at 0 still count
      clock += 1;
      expect([await call(), await call(), await call()]).toEqual([200, 200, 429]); // t = 1000: those at 0 left
      clock += 600;
      expect(await call()).toBe(200); // t = 1600: the one at 600 left
    } finally {
      await c.close();
    }
  });

  it('0 disables it', async () => {
    const free = await startEmulator({ rateLimitPerSecond: 0 });
    try {
      const token = await free.token();
      const results = await Promise.all(Array.from({ length: 40 }, () => free.api('/v3/unify', unify, token)));
      expect(results.every((r) => r.status === 200)).toBe(true);
    } finally {
      await free.close();
    }
  });

  it('defaults to 25 per second', async () => {
    const { createProveEmulator } = await import('../../src/emulator/index.js');
    const { CLIENT_ID, CLIENT_SECRET } = await import('./helpers.js');
    const em = createProveEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const srv = await em.listen({ port: 0 });
    try {
      const tok = await (
        await fetch(`${srv.url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
        })
      ).json();
      const results = await Promise.all(
        Array.from({ length: 30 }, () =>
          fetch(`${srv.url}/v3/unify`, {
            method: 'POST',
            headers: { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' },
            body: JSON.stringify(unify),
          }).then((r) => r.status),
        ),
      );
      expect(results.filter((s) => s === 200)).toHaveLength(25);
      expect(results.filter((s) => s === 429)).toHaveLength(5);
    } finally {
      await srv.close();
      await em.close();
    }
  });
});
