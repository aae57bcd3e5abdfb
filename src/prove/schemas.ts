/**
 * Our own reading of Prove's wire format. The SDK's schemas drop request fields and reject every
 * 200 (prove-api.md, defects 1-3), so every body we send or receive goes through these instead.
 */
import { z } from 'zod';
import type {
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

/** Field names per endpoint, so a 400 message naming one can be attributed to it. */
export const REQUEST_FIELDS = {
  '/v3/unify': Object.keys(UnifyRequestSchema.innerType().shape),
  '/v3/unify-status': Object.keys(UnifyStatusRequestSchema.shape),
  '/v3/unify-bind': Object.keys(UnifyBindRequestSchema.shape),
} as const;

// ---------- responses (tolerant readers: unknown fields are ignored, null means absent) ----------

/** Prove documents `success` as a string, its examples show a boolean: accept both, keep the string. */
const success = z.union([z.string(), z.boolean()]).transform((v) => String(v));

const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const evaluationCategory = z.object({
  result: z.string(),
  // An object keyed by the numeric code as a string (not an array); codes are an open set.
  failureReasons: z
    .record(z.string(), z.union([z.string(), z.number()]).transform((v) => String(v)))
    .nullish()
    .transform((v) => v ?? {}),
}) satisfies z.ZodType<EvaluationCategory, z.ZodTypeDef, unknown>;

export const UnifyStartedSchema = z.object({
  success: success.pipe(z.literal('pending')),
  correlationId: z.string().min(1),
  authToken: z.string().min(1),
}) satisfies z.ZodType<UnifyStarted, z.ZodTypeDef, unknown>;

export const UnifyOutcomeSchema = z
  .object({
    success,
    phoneNumber: optionalString,
    proveId: optionalString,
    deviceId: optionalString,
    clientHumanId: optionalString,
    clientRequestId: optionalString,
    evaluation: z
      .record(z.string(), evaluationCategory)
      .nullish()
      .transform((v) => v ?? undefined),
  })
  .transform(dropUndefined) satisfies z.ZodType<UnifyOutcome, z.ZodTypeDef, unknown>;

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
