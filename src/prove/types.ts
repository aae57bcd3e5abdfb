/**
 * The gateway's view of Prove Unify: four calls, plain data in and out, one typed error.
 * Nothing here knows about flows or GraphQL; nothing here knows about the SDK either
 * (the adapter in ./adapter.ts does).
 */
import type { ProveLogger } from './logger.js';

export type PossessionWire = 'mobile' | 'desktop' | 'none';

/** Body of POST /v3/unify, in Prove's own field names. */
export interface UnifyRequest {
  possessionType: PossessionWire;
  phoneNumber?: string;
  finalTargetUrl?: string;
  smsMessage?: string;
  clientRequestId?: string;
  clientCustomerId?: string;
  clientHumanId?: string;
  allowOTPRetry?: boolean;
  rebind?: boolean;
  checkReputation?: boolean;
  deviceId?: string;
  proveId?: string;
  emailAddress?: string;
  ipAddress?: string;
}

/**
 * Prove's answer to /v3/unify. `success` is normally "pending", but the newest SDK types it as any
 * string, and `authToken` as optional: the flow exists either way (its correlationId says so).
 */
export interface UnifyStarted {
  success: string;
  correlationId: string;
  authToken?: string;
}

/** Prove's `success`, normalised to a string (the API and its docs disagree on boolean vs string). */
export type ProveSuccess = 'true' | 'false' | 'pending' | 'possession_required' | (string & {});

export interface EvaluationCategory {
  /** "pass" or "fail"; absent when Prove sent the category without one (its own examples do). */
  result?: string;
  /** Keyed by Prove's numeric code as a string, e.g. { "9101": "phone number does not match the Prove Key" }. */
  failureReasons: Record<string, string>;
}

/** Response of /v3/unify-status and /v3/unify-bind. */
export interface UnifyOutcome {
  success: ProveSuccess;
  phoneNumber?: string;
  proveId?: string;
  deviceId?: string;
  clientHumanId?: string;
  clientRequestId?: string;
  evaluation?: Record<string, EvaluationCategory>;
}

export interface UnifyStatusRequest {
  correlationId: string;
  clientRequestId?: string;
}

export interface UnifyBindRequest {
  correlationId: string;
  phoneNumber: string;
  clientRequestId?: string;
}

/** Body of POST /v3/device/revoke (both fields required by Prove). */
export interface DeviceRevokeRequest {
  clientRequestId: string;
  deviceId: string;
}

/** `success: false` when Prove does not know the device (its 404 8011). */
export interface DeviceRevoked {
  success: boolean;
}

export interface CallOptions {
  /** Aborts the call (and any retries) when signalled. */
  signal?: AbortSignal;
  /** Where this call's lines go (the caller's request's log); the client's own logger otherwise. */
  log?: ProveLogger;
}

export interface ProveClient {
  unify(request: UnifyRequest, options?: CallOptions): Promise<UnifyStarted>;
  unifyStatus(request: UnifyStatusRequest, options?: CallOptions): Promise<UnifyOutcome>;
  unifyBind(request: UnifyBindRequest, options?: CallOptions): Promise<UnifyOutcome>;
  /** Deactivates a Prove Key (lost device, account takeover): the next flow on it needs a full possession check. */
  revokeDevice(request: DeviceRevokeRequest, options?: CallOptions): Promise<DeviceRevoked>;
  /** Cheap credential check for readiness: obtains (or reuses) an OAuth token. */
  checkCredentials(options?: CallOptions): Promise<void>;
}

export type ProveErrorKind =
  /** 400: Prove refused the request; `field` names the offending field when Prove's message does. */
  | 'invalid_request'
  /** 401/403 after one token refresh, or the token exchange refused: a configuration problem. */
  | 'unauthorized'
  /** 429: `retryAfterSeconds` from Retry-After when given. */
  | 'rate_limited'
  /** 5xx, 404, or a body we cannot read. */
  | 'unavailable'
  /** The call's own timeout elapsed. */
  | 'timeout'
  /** Connection refused/reset/dropped before a response. */
  | 'network';

export class ProveError extends Error {
  override readonly name = 'ProveError';
  readonly kind: ProveErrorKind;
  readonly status: number | undefined;
  /** Prove's numeric `code` from the error body, kept as information only. */
  readonly proveCode: number | undefined;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** Which endpoint failed, e.g. '/v3/unify-status'. */
  readonly endpoint: string;

  constructor(init: {
    kind: ProveErrorKind;
    message: string;
    endpoint: string;
    status?: number;
    proveCode?: number;
    field?: string;
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.proveCode = init.proveCode;
    this.field = init.field;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}
