/**
 * Our own reading of Prove's wire format. The SDK's schemas drop request fields and reject every
 * 200 (prove-api.md, defects 1-3), so every body we send or receive goes through these instead.
 */
import { z } from 'zod';
import type {
  DeviceRevokeRequest,
  EvaluationCategory,
  UnifyBindRequest,
  UnifyOutcome,
  UnifyRequest,
  UnifyStarted,
  UnifyStatusRequest,
} from './types.js';

// ---------- requests (validated before anything reaches the wire) ----------

/** Prove: "only letters, digits and +"; US numbers with or without +1, others with + and country code. */
const phoneNumber = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9+]+$/, 'phoneNumber may contain only letters, digits and +');

/** Prove's correlationId pattern (lowercase hex only). Checked here so a typo costs no upstream call. */
const correlationId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'correlationId is not a lowercase UUID');

const id = z.string().min(1).max(256);

export const UnifyRequestSchema = z
  .object({
    possessionType: z.enum(['mobile', 'desktop', 'none']),
    phoneNumber: phoneNumber.optional(),
    finalTargetUrl: z
      .string()
      .max(128, 'finalTargetUrl is longer than 128 characters')
      .regex(/^[A-Za-z0-9\-._+=/:?]+$/, 'finalTargetUrl contains characters Prove does not accept')
      .optional(),
    smsMessage: z.string().max(160, 'smsMessage is longer than 160 characters').optional(),
    clientRequestId: id.optional(),
    clientCustomerId: id.optional(),
    clientHumanId: id.optional(),
    allowOTPRetry: z.boolean().optional(),
    rebind: z.boolean().optional(),
    checkReputation: z.boolean().optional(),
    deviceId: id.optional(),
    proveId: id.optional(),
    emailAddress: z.string().min(1).max(254).optional(),
    ipAddress: z.string().min(1).max(64).optional(),
  })
  .superRefine((value, ctx) => {
    if (value.possessionType === 'desktop' && value.finalTargetUrl === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['finalTargetUrl'], message: 'finalTargetUrl is required for desktop' });
    }
  }) satisfies z.ZodType<UnifyRequest, z.ZodTypeDef, unknown>;

export const UnifyStatusRequestSchema = z.object({
  correlationId,
  clientRequestId: id.optional(),
}) satisfies z.ZodType<UnifyStatusRequest, z.ZodTypeDef, unknown>;

export const UnifyBindRequestSchema = z.object({
  correlationId,
  phoneNumber,
  clientRequestId: id.optional(),
}) satisfies z.ZodType<UnifyBindRequest, z.ZodTypeDef, unknown>;

export const DeviceRevokeRequestSchema = z.object({
  clientRequestId: id,
  deviceId: id,
}) satisfies z.ZodType<DeviceRevokeRequest, z.ZodTypeDef, unknown>;

/** Field names per endpoint, so a 400 message naming one can be attributed to it. */
export const REQUEST_FIELDS = {
  '/v3/unify': Object.keys(UnifyRequestSchema.innerType().shape),
  '/v3/unify-status': Object.keys(UnifyStatusRequestSchema.shape),
  '/v3/unify-bind': Object.keys(UnifyBindRequestSchema.shape),
  '/v3/device/revoke': Object.keys(DeviceRevokeRequestSchema.shape),
} as const;

// ---------- responses (tolerant readers: unknown fields are ignored, null means absent) ----------

/** Prove documents `success` as a string, its examples show a boolean: accept both, keep the string. */
const success = z.union([z.string(), z.boolean()]).transform((v) => String(v));

const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

/**
 * One evaluation category, read as loosely as Prove writes it: the SDK types each category as an
 * open object and its own examples send `{}` (and even a category named "success"). A missing or
 * non-string `result`, unknown keys, or failureReasons that are not an object are not errors:
 * what can be read is kept, and the outcome (`success`) still decides the flow.
 */
const evaluationCategory = z
  .unknown()
  .transform((value): EvaluationCategory | undefined => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const { result, failureReasons } = value as Record<string, unknown>;
    return {
      ...(typeof result === 'string' ? { result } : {}),
      failureReasons: readFailureReasons(failureReasons),
    };
  });

/** An object keyed by the numeric code as a string (not an array); codes are an open set. */
function readFailureReasons(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const reasons: Record<string, string> = {};
  for (const [code, text] of Object.entries(value)) {
    if (typeof text === 'string' || typeof text === 'number') reasons[code] = String(text);
    else if (text !== null && text !== undefined) reasons[code] = '';
  }
  return reasons;
}

/** Categories that are not objects (a bare string, null) are dropped; an evaluation that is not an object is absent. */
const evaluation = z
  .unknown()
  .transform((value): Record<string, EvaluationCategory> | undefined => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const categories: Record<string, EvaluationCategory> = {};
    for (const [name, raw] of Object.entries(value)) {
      const category = evaluationCategory.parse(raw);
      if (category) categories[name] = category;
    }
    return categories;
  });

/**
 * The unify answer. The newest SDK types `success` as any string (a reference example shows
 * "success") and authToken as optional: whatever Prove says, a correlationId means a flow was
 * opened (and an SMS may be on its way), so nothing but a missing correlationId is refused.
 */
export const UnifyStartedSchema = z
  .object({
    success,
    correlationId: z.string().min(1),
    authToken: optionalString,
  })
  .transform(dropUndefined) satisfies z.ZodType<UnifyStarted, z.ZodTypeDef, unknown>;

export const UnifyOutcomeSchema = z
  .object({
    success,
    phoneNumber: optionalString,
    proveId: optionalString,
    deviceId: optionalString,
    clientHumanId: optionalString,
    clientRequestId: optionalString,
    evaluation,
  })
  .transform(dropUndefined) satisfies z.ZodType<UnifyOutcome, z.ZodTypeDef, unknown>;

/** POST /v3/device/revoke: `{ success: boolean }` (read loosely: a string "true" counts). */
export const DeviceRevokedSchema = z.object({ success }).transform(({ success: s }) => ({ success: s === 'true' }));

/** `{ code?, message }` on every error status; both parts are optional here since proxies send anything. */
export const ErrorBodySchema = z.object({
  code: z.coerce.number().int().optional().catch(undefined),
  message: z.string().optional().catch(undefined),
});

export const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  // RFC 6749 §5.1: the type is case-insensitive; anything but Bearer is unusable for us.
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type is not Bearer'),
  expires_in: z.coerce.number().positive(),
});

/** Keeps results free of `key: undefined`, so callers (and deep-equality tests) see only what Prove sent. */
function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
