/** The adapter's pure parts: classification helpers, redaction, backoff, schemas, the server map. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRedactor, errorFromStatus, fieldNamedIn, parseRetryAfter } from '../../src/prove/errors.js';
import { PROVE_SERVERS, ProveError, createProveClient, isProveEnv, type ProveLogger } from '../../src/prove/index.js';
import { backoffMs, isTransient } from '../../src/prove/retry.js';
import { REQUEST_FIELDS, UnifyOutcomeSchema, UnifyStartedSchema } from '../../src/prove/schemas.js';

describe('PROVE_SERVERS', () => {
  it('maps every PROVE_ENV to the host in prove-api.md', () => {
    expect(PROVE_SERVERS).toEqual({
      'uat-us': 'https://platform.uat.proveapis.com',
      'prod-us': 'https://platform.proveapis.com',
      'uat-eu': 'https://platform.uat.eu.proveapis.com',
      'prod-eu': 'https://platform.eu.proveapis.com',
    });
    expect(isProveEnv('prod-eu')).toBe(true);
    expect(isProveEnv('toString')).toBe(false);
  });
});

describe('redaction', () => {
  const redact = createRedactor(() => ['s3cr3t-value', 'opaque-token-abc']);

  it('masks secrets, tokens, JWTs and phone numbers but keeps short codes', () => {
    const text =
      'client s3cr3t-value token opaque-token-abc jwt eyJhbGciOi.eyJzdWIiOi.sig Bearer xyz.123 ' +
      'phone +12001004018 or 200-100-4014, code 8007';
    const out = redact(text);
    expect(out).not.toContain('s3cr3t-value');
    expect(out).not.toContain('opaque-token-abc');
    expect(out).not.toContain('eyJ');
    expect(out).not.toContain('xyz.123');
    expect(out).not.toContain('2001004018');
    expect(out).not.toContain('200-100');
    expect(out).toContain('***4018');
    expect(out).toContain('***4014');
    expect(out).toContain('code 8007');
  });
});

describe('fieldNamedIn', () => {
  const fields = REQUEST_FIELDS['/v3/unify'];
  it.each([
    ['phoneNumber is required', 'phoneNumber'],
    ['invalid phone number', 'phoneNumber'],
    ['field final_target_url too long', 'finalTargetUrl'],
    ['allowOTPRetry must be a boolean', 'allowOTPRetry'],
    ['smsMessage: too long; phoneNumber also bad', 'smsMessage'],
    ['ipAddress is not an IP', 'ipAddress'],
    ['internal error', undefined],
  ])('%s -> %s', (message, field) => {
    expect(fieldNamedIn(message, fields)).toBe(field);
  });

  it('does not match a field inside a longer word', () => {
    expect(fieldNamedIn('xdeviceIdy', fields)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('7')).toBe(7);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:03 GMT', now)).toBe(3);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('errorFromStatus', () => {
  const redact = createRedactor(() => []);
  const raw = (status: number, body: unknown, retryAfter: string | null = null) => ({
    status,
    retryAfter,
    text: typeof body === 'string' ? body : JSON.stringify(body),
  });

  it('classifies by status and keeps Prove code and field', () => {
    const bad = errorFromStatus('/v3/unify', raw(400, { code: 8001, message: 'smsMessage too long' }), REQUEST_FIELDS['/v3/unify'], redact);
    expect(bad).toMatchObject({ kind: 'invalid_request', status: 400, proveCode: 8001, field: 'smsMessage' });
    expect(errorFromStatus('/v3/unify', raw(403, { code: 8002, message: 'no' }), [], redact).kind).toBe('unauthorized');
    expect(errorFromStatus('/v3/unify', raw(429, {}, '2'), [], redact)).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 2 });
    expect(errorFromStatus('/v3/unify', raw(404, '<html>'), [], redact)).toMatchObject({ kind: 'unavailable', status: 404 });
    expect(errorFromStatus('/v3/unify', raw(502, '<html>bad gateway'), [], redact)).toMatchObject({ kind: 'unavailable', status: 502 });
  });
});

describe('retry policy', () => {
  const policy = { initialMs: 100, maxMs: 1000, maxAttempts: 5 };
  it('full jitter stays within the doubling cap and the ceiling', () => {
    expect(backoffMs(0, policy, () => 0)).toBe(0);
    expect(backoffMs(0, policy, () => 0.999)).toBe(99);
    expect(backoffMs(3, policy, () => 0.999)).toBe(799);
    expect(backoffMs(10, policy, () => 0.999)).toBe(999);
  });

  it('treats only overload and transport failures as transient', () => {
    const e = (kind: ProveError['kind'], status?: number) => new ProveError({ kind, status, endpoint: '/v3/unify-status', message: kind });
    expect(isTransient(e('unavailable', 503))).toBe(true);
    expect(isTransient(e('rate_limited', 429))).toBe(true);
    expect(isTransient(e('timeout'))).toBe(true);
    expect(isTransient(e('network'))).toBe(true);
    expect(isTransient(e('unavailable', 404))).toBe(false);
    expect(isTransient(e('unavailable', 200))).toBe(false);
    expect(isTransient(e('invalid_request', 400))).toBe(false);
    expect(isTransient(e('unauthorized', 401))).toBe(false);
    expect(isTransient(new Error('x'))).toBe(false);
  });
});

describe('response schemas', () => {
  it('normalise success to a string and default failureReasons to {}', () => {
    const out = UnifyOutcomeSchema.parse({
      success: true,
      deviceId: null,
      unknownField: 'tolerated',
      evaluation: { authentication: { result: 'pass' }, risk: { result: 'fail', failureReasons: { '9133': 'ported' } } },
    });
    expect(out).toEqual({
      success: 'true',
      evaluation: { authentication: { result: 'pass', failureReasons: {} }, risk: { result: 'fail', failureReasons: { '9133': 'ported' } } },
    });
    expect(UnifyOutcomeSchema.parse({ success: false }).success).toBe('false');
    expect(UnifyOutcomeSchema.parse({ success: 'possession_required' }).success).toBe('possession_required');
  });

  it('accept any unify answer that names a correlationId: the flow exists whatever `success` says', () => {
    expect(UnifyStartedSchema.safeParse({ success: 'pending', correlationId: 'c', authToken: 'a' }).success).toBe(true);
    expect(UnifyStartedSchema.parse({ success: 'success', correlationId: 'c', authToken: 'a' })).toEqual({ success: 'success', correlationId: 'c', authToken: 'a' });
    expect(UnifyStartedSchema.parse({ success: true, correlationId: 'c' })).toEqual({ success: 'true', correlationId: 'c' });
    expect(UnifyStartedSchema.safeParse({ success: 'pending', authToken: 'a' }).success).toBe(false);
    expect(UnifyStartedSchema.safeParse({ success: 'pending', correlationId: '', authToken: 'a' }).success).toBe(false);
  });
});

describe('options', () => {
  it('accept a pino logger as is', () => {
    const logger: ProveLogger = pino({ level: 'silent' });
    expect(() => createProveClient({ serverURL: 'http://127.0.0.1:9', clientId: 'a', clientSecret: 'b', logger })).not.toThrow();
  });

  it('refuse a missing serverURL or credentials', () => {
    expect(() => createProveClient({ serverURL: '', clientId: 'a', clientSecret: 'b' })).toThrow(/serverURL/);
    expect(() => createProveClient({ serverURL: 'http://127.0.0.1:9', clientId: 'a', clientSecret: '' })).toThrow(/clientSecret/);
  });
});
