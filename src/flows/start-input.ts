import type { UnifyRequest, UnifyStarted } from '../prove/types.js';
import type { ProveRegion } from '../prove/regions.js';
import { InvalidInputError } from './errors.js';
import type { Flow, PossessionType } from './flow.js';
import { normalisePhoneNumber, type PhonePolicy } from './phone.js';
import { sha256 } from '../lib/hash.js';
import { requirePhoneNumber, validateIdentity, type IdentityInput, type ValidIdentity } from './identity-input.js';

/**
 * startUnify's input: checked field by field against Prove's own rules, so a client hears
 * "finalTargetUrl: ..." from us instead of a Prove 400, and nothing malformed reaches Prove.
 */

export interface StartInput extends IdentityInput {
  possessionType: PossessionType;
  phoneNumber?: string | null;
  finalTargetUrl?: string | null;
  smsMessage?: string | null;
  allowOtpRetry?: boolean | null;
  rebind?: boolean | null;
  checkReputation?: boolean | null;
  deviceId?: string | null;
  clientCustomerId?: string | null;
  clientHumanId?: string | null;
  clientRequestId?: string | null;
  /** Prove's region for a phone-less start; with a number, it must be the number's own. */
  region?: ProveRegion | null;
}

export interface ValidStart extends ValidIdentity {
  possessionType: PossessionType;
  /** Absent for a phone-less start: the flow learns the number from Prove's answer. */
  phoneNumber?: string;
  finalTargetUrl?: string;
  smsMessage?: string;
  allowOtpRetry: boolean;
  rebind: boolean;
  checkReputation: boolean;
  deviceId?: string;
  clientCustomerId?: string;
  clientHumanId?: string;
  clientRequestId?: string;
  region?: ProveRegion;
}

// Prove: at most 128 characters of letters, digits and - . _ + = / : ?
const TARGET_URL = /^[A-Za-z0-9\-._+=/:?]{1,128}$/;
// Never legitimate in an SMS: control characters (Cc), format characters (Cf: zero-width, bidi
// overrides, soft hyphen, invisible tag characters), private use (Co), unpaired surrogates (Cs),
// line/paragraph separators, and the Hangul fillers that render as blanks.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/u;
const OTP_PLACEHOLDER = /#{4,6}/g;
const IDENTIFIER = /^[\x21-\x7e]{1,128}$/;

export function identifier(field: string, value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (!IDENTIFIER.test(value)) {
    throw new InvalidInputError(field, `${field} must be 1 to 128 printable ASCII characters without spaces`);
  }
  return value;
}

/** What a caller may put in the message Prove sends: the text and link of an SMS are a phishing tool. */
export interface ContentPolicy {
  /** Only trusted callers (API key) may word the SMS. */
  trustedCaller: boolean;
  /** When not empty, finalTargetUrl must be on one of these origins. */
  finalTargetOrigins: readonly string[];
  /** A public caller's address: sent to Prove as the end user's ipAddress. */
  clientAddress?: string | undefined;
}

const OPEN: ContentPolicy = { trustedCaller: true, finalTargetOrigins: [] };

export function validateStart(input: StartInput, phonePolicy: PhonePolicy, content: ContentPolicy = OPEN): ValidStart {
  const identity = validateIdentity(input, { trusted: content.trustedCaller, address: content.clientAddress });
  // Only an absent number makes a phone-less start; an empty one is a malformed number.
  const absent = input.phoneNumber === null || input.phoneNumber === undefined;
  if (absent) requirePhoneNumber(input.possessionType, identity.proveId);
  const phoneNumber = absent ? undefined : normalisePhoneNumber(input.phoneNumber!, phonePolicy);

  let finalTargetUrl: string | undefined;
  if (input.possessionType === 'DESKTOP') {
    if (!input.finalTargetUrl) throw new InvalidInputError('finalTargetUrl', 'finalTargetUrl is required for DESKTOP (Instant Link)');
    if (!TARGET_URL.test(input.finalTargetUrl) || !/^https?:\/\/[^/]/.test(input.finalTargetUrl)) {
      throw new InvalidInputError(
        'finalTargetUrl',
        'finalTargetUrl must be an http(s) URL of at most 128 letters, digits and - . _ + = / : ?',
      );
    }
    if (content.finalTargetOrigins.length && !content.finalTargetOrigins.includes(originOf(input.finalTargetUrl))) {
      throw new InvalidInputError('finalTargetUrl', 'finalTargetUrl must lead to one of the origins this gateway allows');
    }
    finalTargetUrl = input.finalTargetUrl;
  } else if (input.finalTargetUrl) {
    throw new InvalidInputError('finalTargetUrl', 'finalTargetUrl is only used with DESKTOP');
  }

  let smsMessage: string | undefined;
  if (input.smsMessage !== null && input.smsMessage !== undefined) {
    if (!content.trustedCaller) {
      // Otherwise anyone could send their own text, from our sender, to any number.
      throw new InvalidInputError('smsMessage', 'Only trusted callers (API key) may set smsMessage');
    }
    const text = input.smsMessage.normalize('NFC');
    if (text.length === 0 || [...text].length > 160) {
      throw new InvalidInputError('smsMessage', 'smsMessage must be 1 to 160 characters');
    }
    if (INVISIBLE.test(text)) {
      throw new InvalidInputError('smsMessage', 'smsMessage may not contain control, invisible or direction-override characters');
    }
    if (input.possessionType === 'MOBILE' && (text.match(OTP_PLACEHOLDER) ?? []).length !== 1) {
      throw new InvalidInputError('smsMessage', 'smsMessage must contain the code placeholder #### (4 to 6 #) exactly once');
    }
    smsMessage = text;
  }

  return {
    possessionType: input.possessionType,
    ...(phoneNumber ? { phoneNumber } : {}),
    ...identity,
    ...(finalTargetUrl ? { finalTargetUrl } : {}),
    ...(smsMessage ? { smsMessage } : {}),
    allowOtpRetry: input.allowOtpRetry ?? false,
    rebind: input.rebind ?? false,
    checkReputation: input.checkReputation ?? false,
    ...optional('deviceId', identifier('deviceId', input.deviceId)),
    ...optional('clientCustomerId', identifier('clientCustomerId', input.clientCustomerId)),
    ...optional('clientHumanId', identifier('clientHumanId', input.clientHumanId)),
    ...optional('clientRequestId', identifier('clientRequestId', input.clientRequestId)),
    ...(input.region ? { region: input.region } : {}),
  };
}

/** The URL's origin, or '' when it has none we can read (an allow-list then refuses it). */
const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
};

const optional = <K extends string>(key: K, value: string | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, string>>;

/** Two starts are "the same input" when this matches; the order of fields does not matter. */
export function fingerprintStart(start: ValidStart): string {
  const canonical = Object.keys(start)
    .sort()
    .map((k) => [k, start[k as keyof ValidStart]]);
  return sha256(JSON.stringify(canonical));
}

/** ValidStart -> Prove's body for /v3/unify. */
export function toUnifyRequest(start: ValidStart, clientRequestId: string, deviceId: string | undefined): UnifyRequest {
  return {
    possessionType: start.possessionType.toLowerCase() as UnifyRequest['possessionType'],
    ...(start.phoneNumber ? { phoneNumber: start.phoneNumber } : {}),
    clientRequestId,
    ...(start.proveId ? { proveId: start.proveId } : {}),
    ...(start.emailAddress ? { emailAddress: start.emailAddress } : {}),
    ...(start.ipAddress ? { ipAddress: start.ipAddress } : {}),
    ...(start.finalTargetUrl ? { finalTargetUrl: start.finalTargetUrl } : {}),
    ...(start.smsMessage ? { smsMessage: start.smsMessage } : {}),
    ...(start.allowOtpRetry ? { allowOTPRetry: true } : {}),
    ...(start.rebind ? { rebind: true } : {}),
    ...(start.checkReputation ? { checkReputation: true } : {}),
    ...(deviceId ? { deviceId } : {}),
    ...(start.clientCustomerId ? { clientCustomerId: start.clientCustomerId } : {}),
    ...(start.clientHumanId ? { clientHumanId: start.clientHumanId } : {}),
  };
}

/** The flow a start makes once Prove accepted it: PENDING, living flowTtl from now. */
export function pendingFlow(
  start: ValidStart,
  started: Pick<UnifyStarted, 'correlationId' | 'authToken'>,
  at: { id: string; region: ProveRegion; clientRequestId: string; customerScope: string | undefined; now: number; ttlMs: number },
): Flow {
  return {
    id: at.id,
    correlationId: started.correlationId,
    region: at.region,
    // Prove may answer without one (the newest SDK types it optional); the flow exists all the same.
    authToken: started.authToken ?? '',
    possessionType: start.possessionType,
    phoneNumber: start.phoneNumber,
    state: 'PENDING',
    evaluation: [],
    rebind: start.rebind,
    // Only what Prove reports: the id sent for registration recovery is the caller's, not a result.
    deviceId: undefined,
    customerScope: at.customerScope,
    clientHumanId: start.clientHumanId,
    clientRequestId: at.clientRequestId,
    clientCustomerId: start.clientCustomerId,
    createdAt: at.now,
    updatedAt: at.now,
    expiresAt: at.now + at.ttlMs,
    version: 1,
  };
}
