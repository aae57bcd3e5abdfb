/**
 * Request bodies, read strictly enough that a gateway bug shows up as a 400 here instead of
 * passing silently. Every refusal is 8001 with a message that starts with the field's name,
 * as Prove's do. Unknown fields are ignored (Prove adds fields over time).
 */
import { z } from 'zod';
import { malformed } from './errors.js';

const requiredString = (field: string) =>
  z.string({ required_error: `${field} is required`, invalid_type_error: `${field} must be a string` });
// null is treated as "not sent": generated clients often serialise absent optionals that way.
const optionalString = (field: string) => requiredString(field).nullish().transform((v) => v ?? undefined);
const optionalBoolean = (field: string) =>
  z.boolean({ invalid_type_error: `${field} must be a boolean` }).nullish().transform((v) => v ?? undefined);

/** Letters, digits and `- . _ + = / : ?`, per Prove's finalTargetUrl rule. */
const FINAL_TARGET_URL = /^[A-Za-z0-9\-._+=/:?]+$/;
/** Prove: phone numbers are "alphanumeric with symbols '+'". */
const PHONE_CHARS = /^[A-Za-z0-9+]+$/;
/** Prove: emailAddress is "alphanumeric with symbols '@.+'". */
const EMAIL_CHARS = /^[A-Za-z0-9@.+]+$/;
/** Prove: ipAddress is "alphanumeric with '.:' symbols". */
const IP_CHARS = /^[A-Za-z0-9.:]+$/;

/** A string field that must match Prove's character rule for it (and not be empty). */
const charRule = (field: string, pattern: RegExp, rule: string) =>
  requiredString(field).refine((v) => v.length > 0, `${field} must not be empty`).refine((v) => pattern.test(v), `${field} may contain only ${rule}`);
const optionalCharRule = (field: string, pattern: RegExp, rule: string) =>
  charRule(field, pattern, rule).nullish().transform((v) => v ?? undefined);

const phoneRule = 'letters, digits and +';

export const unifyBody = z
  .object({
    possessionType: z.enum(['mobile', 'desktop', 'none'], {
      errorMap: () => ({ message: 'possessionType must be one of mobile, desktop, none' }),
    }),
    phoneNumber: optionalCharRule('phoneNumber', PHONE_CHARS, phoneRule),
    finalTargetUrl: optionalString('finalTargetUrl')
      .refine((v) => v === undefined || v.length <= 128, 'finalTargetUrl must be at most 128 characters')
      .refine(
        (v) => v === undefined || FINAL_TARGET_URL.test(v),
        'finalTargetUrl may contain only letters, digits and - . _ + = / : ?',
      ),
    // Non-ASCII is allowed; the limit counts characters, not bytes.
    smsMessage: optionalString('smsMessage').refine(
      (v) => v === undefined || [...v].length <= 160,
      'smsMessage must be at most 160 characters',
    ),
    // Required by the newest API (since SDK 0.13.2); any format, but not empty.
    clientRequestId: requiredString('clientRequestId').refine((v) => v.length > 0, 'clientRequestId must not be empty'),
    clientCustomerId: optionalString('clientCustomerId'),
    clientHumanId: optionalString('clientHumanId'),
    allowOTPRetry: optionalBoolean('allowOTPRetry'),
    rebind: optionalBoolean('rebind'),
    checkReputation: optionalBoolean('checkReputation'),
    // Prove's one-customer workaround: typed, accepted, and without effect here.
    mobileAuthEnabled: optionalBoolean('mobileAuthEnabled'),
    deviceId: optionalString('deviceId'),
    proveId: optionalString('proveId'),
    emailAddress: optionalCharRule('emailAddress', EMAIL_CHARS, 'letters, digits and @ . +'),
    ipAddress: optionalCharRule('ipAddress', IP_CHARS, 'letters, digits and . :'),
  })
  .superRefine((body, ctx) => {
    if (body.possessionType === 'desktop' && body.finalTargetUrl === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['finalTargetUrl'], message: 'finalTargetUrl is required for desktop' });
    }
  });
export type UnifyBody = z.infer<typeof unifyBody>;

export const statusBody = z.object({
  correlationId: requiredString('correlationId'),
  clientRequestId: optionalString('clientRequestId'),
  // Older reference pages and the SDK's request example send it; it is read for its format only.
  phoneNumber: optionalCharRule('phoneNumber', PHONE_CHARS, phoneRule),
});
export type StatusBody = z.infer<typeof statusBody>;

export const bindBody = z.object({
  correlationId: requiredString('correlationId'),
  phoneNumber: charRule('phoneNumber', PHONE_CHARS, phoneRule),
  clientRequestId: optionalString('clientRequestId'),
});
export type BindBody = z.infer<typeof bindBody>;

export const simAuthenticateBody = z.object({
  authToken: requiredString('authToken'),
  otp: optionalString('otp'),
  instantLink: optionalBoolean('instantLink'),
  deviceId: optionalString('deviceId'),
  phoneNumber: optionalCharRule('phoneNumber', PHONE_CHARS, phoneRule),
  /** The person asked for another SMS (the client SDK's resend). */
  resend: optionalBoolean('resend'),
});
export type SimAuthenticateBody = z.infer<typeof simAuthenticateBody>;

export const deviceRevokeBody = z.object({
  clientRequestId: requiredString('clientRequestId').refine((v) => v.length > 0, 'clientRequestId must not be empty'),
  deviceId: requiredString('deviceId').refine((v) => v.length > 0, 'deviceId must not be empty'),
});
export type DeviceRevokeBody = z.infer<typeof deviceRevokeBody>;

export const FAULT_ENDPOINTS = ['/token', '/v3/unify', '/v3/unify-status', '/v3/unify-bind', '/v3/device/revoke'] as const;
export type Endpoint = (typeof FAULT_ENDPOINTS)[number];

export const faultBody = z
  .object({
    endpoint: z.enum(FAULT_ENDPOINTS, {
      errorMap: () => ({ message: `endpoint must be one of ${FAULT_ENDPOINTS.join(', ')}` }),
    }),
    count: z.number({ invalid_type_error: 'count must be a number' }).int('count must be an integer').min(1, 'count must be at least 1').max(10_000, 'count must be at most 10000').default(1),
    status: z.number({ invalid_type_error: 'status must be a number' }).int('status must be an integer').min(100, 'status must be 100-599').max(599, 'status must be 100-599').optional(),
    body: z.record(z.unknown(), { invalid_type_error: 'body must be an object' }).optional(),
    retryAfterSeconds: z.number({ invalid_type_error: 'retryAfterSeconds must be a number' }).int('retryAfterSeconds must be an integer').min(0, 'retryAfterSeconds must be >= 0').optional(),
    latencyMs: z.number({ invalid_type_error: 'latencyMs must be a number' }).int('latencyMs must be an integer').min(0, 'latencyMs must be >= 0').max(600_000, 'latencyMs must be at most 600000').optional(),
    hang: z.boolean({ invalid_type_error: 'hang must be a boolean' }).optional(),
    drop: z.boolean({ invalid_type_error: 'drop must be a boolean' }).optional(),
    /** Only calls through this door (`us`, `eu`, or `global`: the root); every door when absent. */
    region: z.enum(['us', 'eu', 'global'], { errorMap: () => ({ message: 'region must be one of us, eu, global' }) }).optional(),
    /** Performs the call (a unify sends its SMS and opens its session), then drops the answer. */
    dropAnswer: z.boolean({ invalid_type_error: 'dropAnswer must be a boolean' }).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.status === undefined && f.latencyMs === undefined && !f.hang && !f.drop && !f.dropAnswer) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['status'], message: 'a fault needs one of status, latencyMs, hang, drop, dropAnswer' });
    }
    if (f.dropAnswer && (f.hang || f.drop || f.status !== undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['dropAnswer'], message: 'dropAnswer excludes hang, drop and status' });
    }
    if (f.hang && f.drop) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['hang'], message: 'hang and drop exclude each other' });
    }
  });
export type FaultSpec = z.infer<typeof faultBody>;

/** Parses or throws 400 8001 whose message names the first offending field. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, value: unknown): z.output<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('request body must be a JSON object');
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.output<S>;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  // Our own messages already start with the field; zod's generic ones get it prefixed.
  const message = field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
  throw malformed(message);
}
