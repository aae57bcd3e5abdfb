import { type Flow, type FailureReason, type FlowState, type PossessionType, failureReasonsOf } from './flow.js';

/**
 * What can go wrong, in the domain's words. The GraphQL layer exposes each class as a typed error
 * of the same name; nothing here knows about GraphQL.
 */

export const ERROR_CODES = [
  'INVALID_INPUT', 'RATE_LIMITED', 'FLOW_NOT_FOUND', 'FLOW_EXPIRED', 'PROVE_KEY_MISMATCH',
  'POSSESSION_FAILED', 'BIND_NOT_ALLOWED', 'NOT_AUTHORIZED', 'UPSTREAM_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export abstract class GatewayError extends Error {
  abstract readonly code: ErrorCode;
}

export class InvalidInputError extends GatewayError {
  override readonly name = 'InvalidInputError';
  readonly code = 'INVALID_INPUT';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export class RateLimitedError extends GatewayError {
  override readonly name = 'RateLimitedError';
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number, message = `Too many requests; try again in ${retryAfterSeconds} s`) {
    super(message);
  }
}

export class UpstreamError extends GatewayError {
  override readonly name = 'UpstreamError';
  readonly code = 'UPSTREAM_UNAVAILABLE';
  constructor(readonly retryable: boolean, readonly upstreamStatus: number | undefined, message: string) {
    super(message);
  }
}

/**
 * The flow's start was reserved in the store and Prove has answered it, but the answer is not
 * stored yet: the instance that holds it (store/unsaved-starts.ts) is writing it again after a
 * store outage. Retryable; GraphQL shows it as UpstreamError.
 */
export class FlowStartPendingError extends UpstreamError {
  readonly pendingStart = true;
  constructor() {
    super(true, undefined, 'This flow has started and is still being stored after a store outage; try again shortly');
  }
}

export class FlowNotFoundError extends GatewayError {
  override readonly name = 'FlowNotFoundError';
  readonly code = 'FLOW_NOT_FOUND';
  /**
   * `vanished`: the flow was read before and the store no longer has it (a Redis restart without
   * persistence). The type stays FlowNotFoundError: a client does the same either way, start anew.
   */
  constructor(vanished = false) {
    super(
      vanished
        ? 'This flow is no longer stored (the store lost it, e.g. a Redis restart without persistence); start a new one'
        : 'No flow with this id',
    );
  }
}

export class FlowExpiredError extends GatewayError {
  override readonly name = 'FlowExpiredError';
  readonly code = 'FLOW_EXPIRED';
  constructor(readonly flow: Flow) {
    super('This flow has expired; start a new one');
  }
}

export const PROVE_KEY_MISMATCH = 9101;

export class ProveKeyMismatchError extends GatewayError {
  override readonly name = 'ProveKeyMismatchError';
  readonly code = 'PROVE_KEY_MISMATCH';
  readonly upstreamCode = PROVE_KEY_MISMATCH;
  constructor(readonly flow: Flow) {
    super(
      flow.rebind
        ? 'The phone number does not match the Prove Key, even with rebind'
        : 'The phone number does not match the Prove Key on this device; start again with rebind: true',
    );
  }
  /** Starting again with rebind is the fix, unless this flow already asked for it. */
  get rebindRequired(): boolean {
    return !this.flow.rebind;
  }
}

export class PossessionFailedError extends GatewayError {
  override readonly name = 'PossessionFailedError';
  readonly code = 'POSSESSION_FAILED';
  constructor(readonly flow: Flow) {
    super('Phone possession could not be confirmed');
  }
  get failureReasons(): FailureReason[] {
    return failureReasonsOf(this.flow);
  }
}

export class BindNotAllowedError extends GatewayError {
  override readonly name = 'BindNotAllowedError';
  readonly code = 'BIND_NOT_ALLOWED';
  constructor(readonly state: FlowState, readonly possessionType: PossessionType) {
    super(
      possessionType !== 'NONE'
        ? `Only NONE (customer-supplied possession) flows can be bound; this one is ${possessionType}`
        : `A flow can be bound only in POSSESSION_REQUIRED; this one is ${state}`,
    );
  }
}

export class NotAuthorizedError extends GatewayError {
  override readonly name = 'NotAuthorizedError';
  readonly code = 'NOT_AUTHORIZED';
  constructor(message = 'This operation needs a trusted caller (Authorization: Bearer <api key>)') {
    super(message);
  }

  /** When no key exists at all, sending one cannot help: say what to configure instead. */
  static forGateway(apiKeysConfigured: boolean | undefined): NotAuthorizedError {
    return apiKeysConfigured === false
      ? new NotAuthorizedError(
          'This operation needs a trusted caller (Authorization: Bearer <api key>), and this gateway has no API keys: ' +
            'set GATEWAY_API_KEYS (npm start in development makes one and prints it)',
        )
      : new NotAuthorizedError();
  }
}

/**
 * A flow's outcome as an error, when it is one: what unifyStatus, bindPhone and the subscription
 * report instead of a payload.
 */
export function outcomeError(flow: Flow): GatewayError | undefined {
  if (flow.state === 'EXPIRED') return new FlowExpiredError(flow);
  if (flow.state !== 'FAILED') return undefined;
  return failureReasonsOf(flow).some((r) => r.code === PROVE_KEY_MISMATCH)
    ? new ProveKeyMismatchError(flow)
    : new PossessionFailedError(flow);
}
