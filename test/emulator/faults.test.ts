import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, startEmulator, type Harness } from './helpers.js';

describe('/sim/faults', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterEach(async () => {
    await h.request('/sim/faults', { method: 'DELETE' });
  });
  afterAll(() => h.close());

  const fault = (spec: Record<string, unknown>) => h.sim('/sim/faults', spec);
  const unify = { possessionType: 'mobile', phoneNumber: '2001004014' };

  it('status: answers the status with the default body, without performing the call', async () => {
    const f = await h.start(unify);
    expect((await fault({ endpoint: '/v3/unify-status', count: 1, status: 503 })).status).toBe(200);
    const r = await h.status(f.correlationId);
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ code: 8000, message: 'injected fault' });
    expect(r.headers.get('retry-after')).toBeNull();
    // Had the status call run, it would have ended the flow (9100). It did not.
    expect((await h.device(f.authToken, { otp: '1234' })).body.result).toBe('finished');
    expect((await h.status(f.correlationId)).body.success).toBe('true');
  });

  it('status with a custom body and Retry-After', async () => {
    await fault({ endpoint: '/v3/unify', count: 1, status: 429, body: { code: 1, message: 'slow down' }, retryAfterSeconds: 7 });
    const r = await h.api('/v3/unify', unify);
    expect(r.status).toBe(429);
    expect(r.body).toEqual({ code: 1, message: 'slow down' });
    expect(r.headers.get('retry-after')).toBe('7');
    expect((await h.api('/v3/unify', unify)).status).toBe(200);
  });

  it('faults are consumed per call, in the order they were added', async () => {
    await fault({ endpoint: '/v3/unify', count: 1, status: 500 });
    await fault({ endpoint: '/v3/unify', count: 2, status: 502 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await h.api('/v3/unify', unify)).status);
    expect(statuses).toEqual([500, 502, 502, 200]);
  });

  it('only hits the named endpoint', async () => {
    await fault({ endpoint: '/v3/unify-bind', count: 1, status: 500 });
    expect((await h.api('/v3/unify', unify)).status).toBe(200);
    expect((await h.api('/v3/unify-bind', { correlationId: '00000000-0000-4000-8000-000000000000', phoneNumber: '2001004014' })).status).toBe(500);
  });

  it('applies to /token too, before credentials are checked', async () => {
    await fault({ endpoint: '/token', count: 1, status: 500 });
    await expect(h.token()).rejects.toThrow(/token: 500/);
    expect(await h.token()).toEqual(expect.any(String));
  });

  it('latencyMs delays, then performs the call normally', async () => {
    await fault({ endpoint: '/v3/unify', count: 1, latencyMs: 250 });
    const t0 = performance.now();
    const r = await h.api('/v3/unify', unify);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(r.status).toBe(200);
    expect(r.body.success).toBe('pending');
    const t1 = performance.now();
    await h.api('/v3/unify', unify);
    expect(performance.now() - t1).toBeLessThan(240);
  });

  it('latencyMs with status delays, then answers the status', async () => {
    await fault({ endpoint: '/v3/unify', count: 1, latencyMs: 200, status: 504 });
    const t0 = performance.now();
    const r = await h.api('/v3/unify', unify);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(r.status).toBe(504);
  });

  it('hang never answers: the client times out; the next call is normal', async () => {
    await fault({ endpoint: '/v3/unify', count: 1, hang: true });
    const token = await h.token();
    const hung = fetch(`${h.url}/v3/unify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(unify),
      signal: AbortSignal.timeout(400),
    });
    await expect(hung).rejects.toThrow(/abort|timeout/i);
    expect((await h.api('/v3/unify', unify)).status).toBe(200);
  });

  it('drop destroys the connection without a response', async () => {
    await fault({ endpoint: '/v3/unify-status', count: 1, drop: true });
    const token = await h.token();
    const dropped = fetch(`${h.url}/v3/unify-status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ correlationId: '00000000-0000-4000-8000-000000000000' }),
    });
    await expect(dropped).rejects.toThrow(/fetch failed/);
    expect((await h.status('00000000-0000-4000-8000-000000000000')).status).toBe(400);
  });

  it('DELETE /sim/faults clears every pending fault', async () => {
    await fault({ endpoint: '/v3/unify', count: 5, status: 500 });
    await fault({ endpoint: '/token', count: 5, status: 500 });
    const del = await h.request('/sim/faults', { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await h.api('/v3/unify', unify)).status).toBe(200);
    expect(await h.token()).toEqual(expect.any(String));
  });

  it('count defaults to 1 and the reply says how many are pending', async () => {
    const a = await fault({ endpoint: '/v3/unify', status: 500 });
    expect(a.body).toEqual({ endpoint: '/v3/unify', pending: 1 });
    const b = await fault({ endpoint: '/v3/unify', count: 2, status: 500 });
    expect(b.body.pending).toBe(3);
  });

  it.each([
    ['unknown endpoint', { endpoint: '/v3/other', status: 500 }, 'endpoint'],
    ['no effect', { endpoint: '/v3/unify', count: 1 }, 'status'],
    ['count 0', { endpoint: '/v3/unify', count: 0, status: 500 }, 'count'],
    ['status out of range', { endpoint: '/v3/unify', status: 99 }, 'status'],
    ['body not an object', { endpoint: '/v3/unify', status: 500, body: 'x' }, 'body'],
    ['hang and drop', { endpoint: '/v3/unify', hang: true, drop: true }, 'hang'],
    ['negative latency', { endpoint: '/v3/unify', latencyMs: -1 }, 'latencyMs'],
  ])('refuses a bad fault (%s) with 400 naming the field', async (_name, spec, field) => {
    const r = await fault(spec);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 8001, message: expect.stringContaining(field) });
    // Nothing was queued.
    expect((await h.api('/v3/unify', unify)).status).toBe(200);
  });
});

/** Waits (bounded) until the emulator at `base` has counted a call to `endpoint`: the request is being held. */
async function arrived(base: string, endpoint: string): Promise<void> {
  for (const until = Date.now() + 10_000; ; ) {
    const stats = (await (await fetch(`${base}/sim/stats`)).json()) as { calls: Record<string, number> };
    if ((stats.calls[endpoint] ?? 0) > 0) return;
    if (Date.now() > until) throw new Error(`no call to ${endpoint} reached the emulator within 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('close() with a hung response', () => {
  it('ends hung calls so the process can exit', async () => {
    const h = await startEmulator();
    await h.sim('/sim/faults', { endpoint: '/token', count: 1, hang: true });
    const hung = fetch(`${h.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
    });
    await arrived(h.url, '/token');
    const t0 = performance.now();
    await h.close();
    await expect(hung).rejects.toThrow(/fetch failed/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('emulator.close() when mounted in another server', () => {
  it('destroys hung responses itself (the host server keeps running)', async () => {
    const { createServer } = await import('node:http');
    const { createProveEmulator } = await import('../../src/emulator/index.js');
    const emulator = createProveEmulator({ rateLimitPerSecond: 0 });
    // Mounted under a prefix, the way the gateway does it: strip the prefix, hand over.
    const host = createServer((req, res) => {
      if (req.url?.startsWith('/prove-emulator/')) {
        req.url = req.url.slice('/prove-emulator'.length);
        emulator.handle(req, res);
      } else {
        res.writeHead(200).end('host');
      }
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const { port } = host.address() as import('node:net').AddressInfo;
    const base = `http://127.0.0.1:${port}/prove-emulator`;
    try {
      await fetch(`${base}/sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ endpoint: '/v3/unify', hang: true }),
      });
      const hung = fetch(`${base}/v3/unify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await arrived(base, '/v3/unify');
      await emulator.close();
      await expect(hung).rejects.toThrow(/fetch failed/);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('host');
      expect((await fetch(`${base}/sim/users`)).status).toBe(200);
    } finally {
      host.closeAllConnections();
      await new Promise((r) => host.close(r));
    }
  });
});
