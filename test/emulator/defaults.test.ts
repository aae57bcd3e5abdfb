/**
 * The default windows (flow 15 min, OTP 2 min, link 3 min, token 3600 s), checked through the
 * injectable clock: these lengths cannot be waited out for real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Harness } from './helpers.js';

const MIN = 60_000;

describe('default windows, driven by options.now', () => {
  let h: Harness;
  let clock = Date.now();
  beforeAll(async () => {
    h = await startEmulator({ now: () => clock });
  });
  afterAll(() => h.close());

  it('OTP works just inside 2 minutes and fails just after', async () => {
    const a = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    const b = await h.start({ possessionType: 'mobile', phoneNumber: '2001004014' });
    clock += 2 * MIN;
    expect((await h.device(a.authToken, { otp: '1234' })).body.result).toBe('finished');
    clock += 1;
    expect((await h.device(b.authToken, { otp: '1234' })).body.result).toBe('failed');
  });

  it('Instant Link works just inside 3 minutes and fails just after', async () => {
    const start = () => h.start({ possessionType: 'desktop', phoneNumber: '2001004014', finalTargetUrl: 'https://x.com' });
    const a = await start();
    const b = await start();
    clock += 3 * MIN;
    expect((await h.device(a.authToken, { instantLink: true })).body.result).toBe('finished');
    clock += 1;
    expect((await h.device(b.authToken, { instantLink: true })).body.result).toBe('failed');
  });

  it('a flow lives 15 minutes', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004018' });
    clock += 15 * MIN - 1;
    expect((await h.status(f.correlationId)).body.success).toBe('true');
    clock += 1;
    expect((await h.status(f.correlationId)).body).toEqual({ code: 8008, message: 'correlation id expired' });
  });

  it('a token lives 3600 seconds', async () => {
    const token = await h.token();
    const unify = { possessionType: 'mobile', phoneNumber: '2001004014' };
    clock += 3600_000 - 1;
    expect((await h.api('/v3/unify', unify, token)).status).toBe(200);
    clock += 1;
    expect((await h.api('/v3/unify', unify, token)).status).toBe(401);
  });
});
