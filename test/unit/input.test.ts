import { describe, expect, it } from 'vitest';
import { validateStart, fingerprintStart, toUnifyRequest } from '../../src/flows/start-input.js';
import { normalisePhoneNumber, maskPhoneNumber } from '../../src/flows/phone.js';
import { InvalidInputError } from '../../src/flows/errors.js';

const sandbox = { sandbox: true, allowedCountries: [] };
const production = { sandbox: false, allowedCountries: [] };

const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.field;
    throw error;
  }
  return undefined;
};

describe('phone numbers', () => {
  it.each([
    ['2001004014', '+12001004014'], ['(200) 100-4014', '+12001004014'], ['+1 200 100 4014', '+12001004014'],
    ['+2001004029', '+2001004029'],
  ])('sandbox: %s -> %s', (input, e164) => expect(normalisePhoneNumber(input, sandbox)).toBe(e164));

  it('sandbox numbers are not valid numbers outside a sandbox', () => {
    expect(fieldOf(() => normalisePhoneNumber('2001004014', production))).toBe('phoneNumber');
  });

  it.each(['', 'abc', '12', '+1 415 555 2671; DROP', '٢٠٠١٠٠٤٠١٤', '200\n1004014', '9'.repeat(40)])('refuses %j', (input) => {
    expect(fieldOf(() => normalisePhoneNumber(input, sandbox))).toBe('phoneNumber');
  });

  it('refuses premium-rate and toll-free numbers (SMS pumping)', () => {
    expect(fieldOf(() => normalisePhoneNumber('+1 900 555 1234', production))).toBe('phoneNumber');
    expect(fieldOf(() => normalisePhoneNumber('+44 909 879 0000', production))).toBe('phoneNumber');
    expect(fieldOf(() => normalisePhoneNumber('+1 800 555 1234', production))).toBe('phoneNumber');
  });

  it('honours the country allow-list', () => {
    expect(normalisePhoneNumber('+1 650 253 0000', { sandbox: false, allowedCountries: ['US'] })).toBe('+16502530000');
    expect(fieldOf(() => normalisePhoneNumber('+44 7911 123456', { sandbox: false, allowedCountries: ['US'] }))).toBe('phoneNumber');
  });

  it('a number read before is judged again under each policy (what is remembered of it is the reading, not the verdict)', () => {
    for (let i = 0; i < 3; i++) {
      expect(normalisePhoneNumber('2001004016', sandbox)).toBe('+12001004016');
      expect(fieldOf(() => normalisePhoneNumber('2001004016', production))).toBe('phoneNumber');
      expect(normalisePhoneNumber('+44 7911 123456', production)).toBe('+447911123456');
      expect(fieldOf(() => normalisePhoneNumber('+44 7911 123456', { sandbox: false, allowedCountries: ['US'] }))).toBe('phoneNumber');
      expect(fieldOf(() => normalisePhoneNumber('+1 900 555 1234', production))).toBe('phoneNumber');
    }
  });

  it('masks to the last four digits', () => expect(maskPhoneNumber('+12001004014')).toBe('***4014'));
});

describe('startUnify input', () => {
  const base = { possessionType: 'MOBILE' as const, phoneNumber: '2001004014' };

  it('phoneNumber is required for DESKTOP unless a proveId names the person', () => {
    expect(fieldOf(() => validateStart({ possessionType: 'DESKTOP', finalTargetUrl: 'https://a.example/' }, sandbox))).toBe('phoneNumber');
    expect(validateStart({ possessionType: 'DESKTOP', finalTargetUrl: 'https://a.example/', proveId: 'p-1' }, sandbox)).toMatchObject({ proveId: 'p-1' });
  });

  it('MOBILE and NONE may start without a number; an empty number is still malformed', () => {
    expect(validateStart({ possessionType: 'MOBILE' }, sandbox).phoneNumber).toBeUndefined();
    expect(validateStart({ possessionType: 'NONE', phoneNumber: null }, sandbox).phoneNumber).toBeUndefined();
    expect(fieldOf(() => validateStart({ possessionType: 'MOBILE', phoneNumber: '' }, sandbox))).toBe('phoneNumber');
  });

  it.each([
    [{ possessionType: 'DESKTOP' as const }, 'finalTargetUrl'],
    [{ possessionType: 'DESKTOP' as const, finalTargetUrl: 'javascript:alert(1)' }, 'finalTargetUrl'],
    [{ possessionType: 'DESKTOP' as const, finalTargetUrl: `https://a.example/${'a'.repeat(120)}` }, 'finalTargetUrl'],
    [{ possessionType: 'DESKTOP' as const, finalTargetUrl: 'https://a.example/?x=1&y=2' }, 'finalTargetUrl'],
    [{ finalTargetUrl: 'https://a.example/' }, 'finalTargetUrl'],
    [{ smsMessage: 'x'.repeat(161) }, 'smsMessage'],
    [{ smsMessage: 'Your code is ####\u202e' }, 'smsMessage'],
    [{ smsMessage: 'Your code is ####\u0000' }, 'smsMessage'],
    [{ smsMessage: 'no placeholder here' }, 'smsMessage'],
    [{ smsMessage: '#### and ####' }, 'smsMessage'],
    [{ deviceId: 'has space' }, 'deviceId'],
    [{ clientRequestId: 'x'.repeat(129) }, 'clientRequestId'],
    [{ clientCustomerId: '' }, 'clientCustomerId'],
  ])('%j is refused naming %s', (extra, field) => {
    expect(fieldOf(() => validateStart({ ...base, ...extra }, sandbox))).toBe(field);
  });

  it('accepts a full valid input and maps it to Prove field names', () => {
    const valid = validateStart({
      possessionType: 'DESKTOP', phoneNumber: '2001004014', finalTargetUrl: 'https://example.com/done?x=1',
      smsMessage: 'Tap the link: ####', allowOtpRetry: true, rebind: true, checkReputation: true, deviceId: 'dev-1',
      clientCustomerId: 'cust-1', clientHumanId: 'human-1', clientRequestId: 'req-1',
    }, sandbox);
    expect(toUnifyRequest(valid, 'req-1', valid.deviceId)).toEqual({
      possessionType: 'desktop', phoneNumber: '+12001004014', finalTargetUrl: 'https://example.com/done?x=1',
      smsMessage: 'Tap the link: ####', allowOTPRetry: true, rebind: true, checkReputation: true, deviceId: 'dev-1',
      clientCustomerId: 'cust-1', clientHumanId: 'human-1', clientRequestId: 'req-1',
    });
  });

  it('the same start typed differently has the same fingerprint; a different one does not', () => {
    const a = fingerprintStart(validateStart({ ...base, phoneNumber: '(200) 100-4014' }, sandbox));
    expect(fingerprintStart(validateStart(base, sandbox))).toBe(a);
    expect(fingerprintStart(validateStart({ ...base, rebind: true }, sandbox))).not.toBe(a);
  });
});

describe('message content (phishing)', () => {
  const base = { possessionType: 'DESKTOP' as const, phoneNumber: '2001004014', finalTargetUrl: 'https://shop.example/done' };

  it('only trusted callers may word the SMS', () => {
    const publicCaller = { trustedCaller: false, finalTargetOrigins: [] };
    expect(fieldOf(() => validateStart({ ...base, smsMessage: 'Click ####' }, sandbox, publicCaller))).toBe('smsMessage');
    expect(validateStart({ ...base, smsMessage: 'Click ####' }, sandbox, { trustedCaller: true, finalTargetOrigins: [] }).smsMessage)
      .toBe('Click ####');
  });

  it('Instant Links lead only to allowed origins when FINAL_TARGET_ORIGINS is set', () => {
    const rules = { trustedCaller: false, finalTargetOrigins: ['https://shop.example'] };
    expect(validateStart(base, sandbox, rules).finalTargetUrl).toBe('https://shop.example/done');
    expect(fieldOf(() => validateStart({ ...base, finalTargetUrl: 'https://evil.example/login' }, sandbox, rules))).toBe('finalTargetUrl');
    expect(fieldOf(() => validateStart({ ...base, finalTargetUrl: 'https://shop.example.evil.example/' }, sandbox, rules))).toBe('finalTargetUrl');
  });

  it('an Instant Link URL that does not parse is refused as input, not an unexpected error', () => {
    const rules = { trustedCaller: false, finalTargetOrigins: ['https://shop.example'] };
    for (const finalTargetUrl of ['http://:', 'http://a:99999/']) {
      expect(fieldOf(() => validateStart({ ...base, finalTargetUrl }, sandbox, rules))).toBe('finalTargetUrl');
    }
  });
});
