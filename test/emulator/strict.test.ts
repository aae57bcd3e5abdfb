/**
 * The emulator is as strict as Prove where Prove is strict: clientRequestId is required on
 * /v3/unify (newest API), every field's documented character rule holds, and unify-status
 * accepts the phoneNumber older pages and the SDK's request example send. One test per rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startEmulator();
});
afterAll(() => h.close());

const base = { possessionType: 'mobile', phoneNumber: '2001004014', clientRequestId: 'strict-1' };

/** A raw POST, so the helper cannot add a clientRequestId the test leaves out on purpose. */
async function unifyRaw(body: Record<string, unknown>) {
  const res = await fetch(`${h.url}/v3/unify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await h.token()}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code?: number; message?: string; success?: string } };
}

describe('/v3/unify: clientRequestId is required', () => {
  it.each([
    ['missing', { possessionType: 'mobile', phoneNumber: '2001004014' }],
    ['null', { ...base, clientRequestId: null }],
    ['empty', { ...base, clientRequestId: '' }],
    ['a number', { ...base, clientRequestId: 7 }],
  ])('refuses a %s clientRequestId with 400 8001 naming it', async (_name, body) => {
    const r = await unifyRaw(body);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(8001);
    expect(r.body.message).toMatch(/^clientRequestId/);
  });

  it('accepts any format (Prove recommends a GUID but takes anything)', async () => {
    expect((await unifyRaw({ ...base, clientRequestId: 'order #12/ä' })).status).toBe(200);
  });
});

describe('/v3/unify: character rules', () => {
  const refused: Array<[string, string, unknown]> = [
    ['emailAddress', 'a space', 'a b@example.com'],
    ['emailAddress', 'a dash', 'first-last@example.com'],
    ['emailAddress', 'an underscore', 'a_b@example.com'],
    ['emailAddress', 'empty', ''],
    ['emailAddress', 'a number', 12],
    ['ipAddress', 'a slash (CIDR)', '192.0.2.0/24'],
    ['ipAddress', 'a zone id', 'fe80::1%eth0'],
    ['ipAddress', 'a space', '192.0.2.1 '],
    ['ipAddress', 'empty', ''],
    ['phoneNumber', 'a dot', '200.100.4014'],
    ['phoneNumber', 'parentheses', '(200)1004014'],
    ['mobileAuthEnabled', 'a string', 'true'],
    ['smsMessage', '161 characters', 'ü'.repeat(161)],
  ];
  it.each(refused)('refuses %s with %s (400 8001 naming the field)', async (field, _what, value) => {
    const r = await unifyRaw({ ...base, [field]: value });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(8001);
    expect(r.body.message).toMatch(new RegExp(`^${field}`));
  });

  const accepted: Array<[string, string, unknown]> = [
    ['emailAddress', 'letters, digits and @ . +', 'first.last+tag@example.com'],
    ['ipAddress', 'IPv4', '192.0.2.1'],
    ['ipAddress', 'IPv6', '2001:db8::1'],
    ['smsMessage', '160 non-ASCII characters', 'ü'.repeat(156) + '####'],
    ['mobileAuthEnabled', 'a boolean (accepted, without effect)', true],
  ];
  it.each(accepted)('accepts %s: %s', async (field, _what, value) => {
    const r = await unifyRaw({ ...base, [field]: value });
    expect(r.status).toBe(200);
    expect(r.body.success).toBe('pending');
  });
});

describe('/v3/unify-status and /v3/unify-bind', () => {
  it('unify-status accepts phoneNumber (older pages and the SDK request example send it)', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004018' });
    const r = await h.status(f.correlationId, { phoneNumber: '2001004018' });
    expect(r.status).toBe(200);
    expect(r.body.success).toBe('true');
  });

  it('unify-status refuses a phoneNumber that breaks the character rule', async () => {
    const f = await h.start({ possessionType: 'mobile', phoneNumber: '2001004018' });
    const r = await h.status(f.correlationId, { phoneNumber: '200-100-4018' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 8001, message: expect.stringMatching(/^phoneNumber/) });
  });

  it.each([['a dash', '200-100-4014'], ['empty', ''], ['missing', undefined]])(
    'unify-bind refuses a phoneNumber that is %s',
    async (_what, phoneNumber) => {
      const f = await h.start({ possessionType: 'none', phoneNumber: '2001004014' });
      await h.device(f.authToken);
      expect((await h.status(f.correlationId)).body.success).toBe('possession_required');
      const r = await h.api('/v3/unify-bind', { correlationId: f.correlationId, phoneNumber });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 8001, message: expect.stringMatching(/^phoneNumber/) });
    },
  );
});
