import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Harness } from './helpers.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const decodeJwtPart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

describe('POST /v3/unify', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  it('opens a pending flow with a lowercase uuid v4 correlationId and a JWT-shaped authToken', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await h.api('/v3/unify', { possessionType: 'mobile', phoneNumber: '2001004014', clientRequestId: 'req-1' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(r.body).sort()).toEqual(['authToken', 'correlationId', 'success']);
    expect(r.body.success).toBe('pending');
    expect(r.body.correlationId).toMatch(UUID_V4);
    const parts = (r.body.authToken as string).split('.');
    expect(parts).toHaveLength(3);
    for (const p of parts) expect(p).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeJwtPart(parts[0]!)).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwtPart(parts[1]!);
    // The token goes to the browser: it must not reveal the correlation id the gateway keeps server-side.
    expect(JSON.stringify(claims)).not.toContain(r.body.correlationId);
    expect(claims.sub).toEqual(expect.any(String));
    // About 15 minutes, per Prove.
    expect(claims.exp - before).toBeGreaterThanOrEqual(15 * 60 - 2);
    expect(claims.exp - before).toBeLessThanOrEqual(15 * 60 + 2);
  });

  it('gives every flow its own correlationId and authToken', async () => {
    const a = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const b = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    expect(a.correlationId).not.toBe(b.correlationId);
    expect(a.authToken).not.toBe(b.authToken);
  });

  it('accepts every documented optional field', async () => {
    const r = await h.api('/v3/unify', {
      possessionType: 'desktop',
      phoneNumber: '+12001004015',
      finalTargetUrl: 'https://example.com/done?x=1+2',
      smsMessage: 'Your link: ####',
      clientRequestId: 'req-2',
      clientCustomerId: 'cust-1',
      clientHumanId: 'human-1',
      allowOTPRetry: true,
      rebind: false,
      checkReputation: true,
      deviceId: 'dev-x',
      proveId: 'prove-x',
      emailAddress: 'a@example.com',
      ipAddress: '192.0.2.1',
    });
    expect(r.status).toBe(200);
    expect(r.body.success).toBe('pending');
  });

  it('treats null optionals as absent and ignores unknown fields', async () => {
    const r = await h.api('/v3/unify', { possessionType: 'none', phoneNumber: '2001004014', smsMessage: null, rebind: null, futureField: 1 });
    expect(r.status).toBe(200);
  });

  it.each([
    ['2001004014'],
    ['+12001004014'],
    ['2001004015'],
    ['2001004016'],
    ['2001004017'],
    ['2001004041'],
    ['2001004018'],
    ['+12001004018'],
    ['+2001004029'],
    ['+2001004025'],
    ['+2001004026'],
    ['+2001004027'],
    ['+2001004028'],
    ['+2001004043'],
  ])('knows sandbox user %s', async (phoneNumber) => {
    expect((await h.api('/v3/unify', { possessionType: 'mobile', phoneNumber })).status).toBe(200);
  });

  it.each([['2001004019'], ['+442001004014'], ['2001004029'], ['+12001004029'], ['abcdefghij']])(
    'refuses non-test number %s with 400 8007 "no test user found"',
    async (phoneNumber) => {
      const r = await h.api('/v3/unify', { possessionType: 'mobile', phoneNumber });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ code: 8007, message: 'no test user found' });
    },
  );

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['missing possessionType', { phoneNumber: '2001004014' }, 'possessionType'],
    ['unknown possessionType', { possessionType: 'sms', phoneNumber: '2001004014' }, 'possessionType'],
    ['possessionType of wrong type', { possessionType: 1, phoneNumber: '2001004014' }, 'possessionType'],
    ['desktop without phoneNumber or proveId', { possessionType: 'desktop', finalTargetUrl: 'https://x.com' }, 'phoneNumber'],
    ['an unknown proveId instead of phoneNumber', { possessionType: 'mobile', proveId: 'never-issued' }, 'proveId'],
    ['numeric phoneNumber', { possessionType: 'mobile', phoneNumber: 2001004014 }, 'phoneNumber'],
    ['phoneNumber with a dash', { possessionType: 'mobile', phoneNumber: '200-100-4014' }, 'phoneNumber'],
    ['phoneNumber with spaces', { possessionType: 'mobile', phoneNumber: '200 100 4014' }, 'phoneNumber'],
    ['phoneNumber with + inside', { possessionType: 'mobile', phoneNumber: '200100+4014' }, 'phoneNumber'],
    ['non-US number without +', { possessionType: 'mobile', phoneNumber: '442001004014' }, 'phoneNumber'],
    ['empty phoneNumber', { possessionType: 'mobile', phoneNumber: '' }, 'phoneNumber'],
    ['desktop without finalTargetUrl', { possessionType: 'desktop', phoneNumber: '2001004014' }, 'finalTargetUrl'],
    ['finalTargetUrl with a space', { possessionType: 'desktop', phoneNumber: '2001004014', finalTargetUrl: 'https://x.com/a b' }, 'finalTargetUrl'],
    ['finalTargetUrl with &', { possessionType: 'desktop', phoneNumber: '2001004014', finalTargetUrl: 'https://x.com/?a=1&b=2' }, 'finalTargetUrl'],
    ['finalTargetUrl over 128', { possessionType: 'desktop', phoneNumber: '2001004014', finalTargetUrl: `https://x.com/${'a'.repeat(115)}` }, 'finalTargetUrl'],
    ['smsMessage over 160', { possessionType: 'mobile', phoneNumber: '2001004014', smsMessage: 'x'.repeat(161) }, 'smsMessage'],
    ['allowOTPRetry as string', { possessionType: 'mobile', phoneNumber: '2001004014', allowOTPRetry: 'yes' }, 'allowOTPRetry'],
    ['rebind as number', { possessionType: 'mobile', phoneNumber: '2001004014', rebind: 1 }, 'rebind'],
    ['deviceId as number', { possessionType: 'mobile', phoneNumber: '2001004014', deviceId: 5 }, 'deviceId'],
    ['clientRequestId as object', { possessionType: 'mobile', phoneNumber: '2001004014', clientRequestId: {} }, 'clientRequestId'],
  ];
  it.each(invalid)('refuses %s with 400 8001 naming the field', async (_name, body, field) => {
    const r = await h.api('/v3/unify', body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 8001, message: expect.stringContaining(field) });
  });

  it('accepts the limits exactly: 128-char finalTargetUrl, 160-char smsMessage', async () => {
    const url = `https://x.com/${'a'.repeat(114)}`;
    expect(url).toHaveLength(128);
    const r = await h.api('/v3/unify', { possessionType: 'desktop', phoneNumber: '2001004014', finalTargetUrl: url, smsMessage: 'x'.repeat(160) });
    expect(r.status).toBe(200);
  });

  it('refuses malformed JSON, a non-object body and a non-JSON content type with 400 8001', async () => {
    const bad = await h.api('/v3/unify', '{"possessionType": "mobile",');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 8001, message: expect.any(String) });
    const array = await h.api('/v3/unify', '[1,2]');
    expect(array.status).toBe(400);
    expect(array.body.code).toBe(8001);
    const text = await h.request('/v3/unify', {
      method: 'POST',
      headers: { authorization: `Bearer ${await h.token()}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ possessionType: 'mobile', phoneNumber: '2001004014' }),
    });
    expect(text.status).toBe(400);
    expect(text.body.code).toBe(8001);
  });

  it('refuses a body over 4 KB with 400 8001, and accepts one just under', async () => {
    const big = { possessionType: 'mobile', phoneNumber: '2001004014', clientCustomerId: 'c'.repeat(4096) };
    const r = await h.api('/v3/unify', big);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 8001, message: expect.stringContaining('4096') });
    const near = { possessionType: 'mobile', phoneNumber: '2001004014', clientCustomerId: 'c'.repeat(3900) };
    expect((await h.api('/v3/unify', near)).status).toBe(200);
    // The connection survives the refusal: the next call works.
    expect((await h.api('/v3/unify', { possessionType: 'mobile', phoneNumber: '2001004014' })).status).toBe(200);
  });
});

describe('routing', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator();
  });
  afterAll(() => h.close());

  it('answers unknown paths with 404 {code, message}', async () => {
    for (const path of ['/v3/nope', '/', '/v2/unify', '/sim/nothing']) {
      const r = await h.request(path, { method: 'POST' });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ code: expect.any(Number), message: expect.any(String) });
    }
  });

  it('answers a wrong method with 405 and Allow', async () => {
    for (const path of ['/v3/unify', '/v3/unify-status', '/v3/unify-bind', '/sim/authenticate']) {
      const r = await h.request(path, { method: 'GET' });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('POST');
      expect(r.body).toEqual({ code: expect.any(Number), message: expect.any(String) });
    }
    expect((await h.request('/sim/stats', { method: 'POST' })).status).toBe(405);
  });

  it('ignores a query string', async () => {
    const r = await h.request('/sim/users?x=1');
    expect(r.status).toBe(200);
  });

  it('GET /sim/users lists the sandbox users', async () => {
    const r = await h.request('/sim/users');
    expect(r.status).toBe(200);
    const numbers = (r.body.users as Array<{ phoneNumber: string; behaviour: string }>).map((u) => u.phoneNumber).sort();
    expect(numbers).toEqual([
      '+2001004025', '+2001004026', '+2001004027', '+2001004028', '+2001004029', '+2001004043',
      '2001004014', '2001004015', '2001004016', '2001004017', '2001004018', '2001004041',
    ]);
    for (const u of r.body.users) expect(u).toEqual({ phoneNumber: expect.any(String), behaviour: expect.any(String), description: expect.any(String) });
  });
});
