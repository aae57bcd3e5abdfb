import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Harness, type Reply } from './helpers.js';

/**
 * Prove's two regions: NA numbers on the US hosts, international numbers on the EU hosts, each
 * with its own credentials. The emulator serves them as doors under /us and /eu (the root still
 * knows every user): a door knows only its own region's sandbox users, its own OAuth client,
 * and its own sessions.
 */

const US = { clientId: 'us-client', clientSecret: 'us-secret-value' };
const EU = { clientId: 'eu-client', clientSecret: 'eu-secret-value' };

describe('regional doors', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator({ regions: { us: US, eu: EU } });
  });
  afterAll(() => h.close());

  const tokenAt = async (door: string, credentials: { clientId: string; clientSecret: string }): Promise<Reply> =>
    h.request(`/${door}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret }),
    });
  const tokens: Record<string, string> = {};
  const token = async (door: 'us' | 'eu') => (tokens[door] ??= (await tokenAt(door, door === 'us' ? US : EU)).body.access_token);
  const call = async (door: 'us' | 'eu', path: string, body: Record<string, unknown>, bearer?: string): Promise<Reply> =>
    h.request(`/${door}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer ?? (await token(door))}` },
      body: JSON.stringify(path === '/v3/unify' ? { clientRequestId: randomUUID(), ...body } : body),
    });

  it('each door takes only its own credentials, and its tokens only work there', async () => {
    expect((await tokenAt('us', US)).status).toBe(200);
    expect((await tokenAt('eu', EU)).status).toBe(200);
    expect((await tokenAt('eu', US)).body).toMatchObject({ code: 8002 });
    expect((await tokenAt('us', EU)).status).toBe(401);
    // The root keeps its own client: neither region's credentials open it.
    expect((await h.request('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: EU.clientId, client_secret: EU.clientSecret }),
    })).status).toBe(401);

    const euToken = await token('eu');
    const refused = await call('us', '/v3/unify', { possessionType: 'mobile', phoneNumber: '2001004014' }, euToken);
    expect(refused).toMatchObject({ status: 401, body: { code: 8002 } });
  });

  it('the US door knows the NA sandbox users and the EU door the international ones, and not each other\'s', async () => {
    for (const phoneNumber of ['2001004014', '+12001004018', '2001004041']) {
      expect((await call('us', '/v3/unify', { possessionType: 'mobile', phoneNumber })).status).toBe(200);
      expect((await call('eu', '/v3/unify', { possessionType: 'mobile', phoneNumber })).body).toMatchObject({ code: 8007 });
    }
    for (const phoneNumber of ['+2001004025', '+2001004026', '+2001004027', '+2001004028', '+2001004029', '+2001004043']) {
      expect((await call('eu', '/v3/unify', { possessionType: 'mobile', phoneNumber })).status).toBe(200);
      expect((await call('us', '/v3/unify', { possessionType: 'mobile', phoneNumber })).body).toMatchObject({ code: 8007 });
    }
  });

  it('only the US door starts Mobile Auth without a number', async () => {
    expect((await call('us', '/v3/unify', { possessionType: 'mobile' })).status).toBe(200);
    const eu = await call('eu', '/v3/unify', { possessionType: 'mobile' });
    expect(eu.status).toBe(400);
    expect(eu.body).toMatchObject({ code: 8001, message: expect.stringMatching(/^phoneNumber is required/) });
  });

  it('a session is known only to the door that opened it', async () => {
    const started = await call('eu', '/v3/unify', { possessionType: 'mobile', phoneNumber: '+2001004029' });
    const { correlationId } = started.body as { correlationId: string };
    expect((await call('us', '/v3/unify-status', { correlationId })).body).toMatchObject({ code: 8008 });
    expect((await h.api('/v3/unify-status', { correlationId })).body).toMatchObject({ code: 8008 });
    const outcome = await call('eu', '/v3/unify-status', { correlationId });
    expect(outcome).toMatchObject({ status: 200, body: { success: 'true', phoneNumber: '+2001004029' } });
  });

  it('the device finishes a regional flow; a number of the other region is no test user there', async () => {
    const started = await call('eu', '/v3/unify', { possessionType: 'mobile', phoneNumber: '+2001004025' });
    const { authToken, correlationId } = started.body as { authToken: string; correlationId: string };
    expect((await h.device(authToken, { otp: '1234', phoneNumber: '2001004014' })).body).toMatchObject({ code: 8007 });
    expect((await h.device(authToken, { otp: '1234' })).body).toMatchObject({ result: 'finished' });
    expect((await call('eu', '/v3/unify-status', { correlationId })).body).toMatchObject({ success: 'true', phoneNumber: '+2001004025' });

    const none = await call('eu', '/v3/unify', { possessionType: 'none', phoneNumber: '+2001004026' });
    const n = none.body as { authToken: string; correlationId: string };
    await h.device(n.authToken, {});
    expect((await call('eu', '/v3/unify-status', { correlationId: n.correlationId })).body).toMatchObject({ success: 'possession_required' });
    expect((await call('eu', '/v3/unify-bind', { correlationId: n.correlationId, phoneNumber: '+2001004026' })).body).toMatchObject({ success: 'true' });
  });

  it('counts calls per door, and a fault aimed at one region leaves the other alone', async () => {
    await h.request('/sim/stats/reset', { method: 'POST' });
    const fault = await h.sim('/sim/faults', { endpoint: '/v3/unify', status: 503, count: 5, region: 'eu' });
    expect(fault.status).toBe(200);
    expect((await call('eu', '/v3/unify', { possessionType: 'mobile', phoneNumber: '+2001004025' })).status).toBe(503);
    expect((await call('us', '/v3/unify', { possessionType: 'mobile', phoneNumber: '2001004014' })).status).toBe(200);
    expect((await h.api('/v3/unify', { possessionType: 'mobile', phoneNumber: '2001004014' })).status).toBe(200);

    const stats = (await h.request('/sim/stats')).body;
    expect(stats.calls['/v3/unify']).toBe(3);
    expect(stats.regions.eu.calls['/v3/unify']).toBe(1);
    expect(stats.regions.eu.responses['/v3/unify']).toEqual({ '503': 1 });
    expect(stats.regions.us.calls['/v3/unify']).toBe(1);
    expect(stats.regions.global.calls['/v3/unify']).toBe(1);
    expect((await h.sim('/sim/faults', { endpoint: '/v3/unify', status: 503, region: 'mars' })).body).toMatchObject({
      code: 8001,
      message: expect.stringMatching(/^region/),
    });
    await h.request('/sim/faults', { method: 'DELETE' });
  });

  it('serves /sim only at the root', async () => {
    expect((await h.request('/eu/sim/stats')).status).toBe(404);
    expect((await h.request('/eu/nowhere')).status).toBe(404);
  });
});
