/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type BindPhoneInput = {
  clientRequestId?: string | null | undefined;
  flowId: string | number;
  phoneNumber: string;
};

export type ErrorCode =
  | 'BIND_NOT_ALLOWED'
  | 'FLOW_EXPIRED'
  | 'FLOW_NOT_FOUND'
  | 'INVALID_INPUT'
  | 'NOT_AUTHORIZED'
  | 'POSSESSION_FAILED'
  | 'PROVE_KEY_MISMATCH'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE';

/** PENDING -> VERIFIED | FAILED | POSSESSION_REQUIRED | EXPIRED; POSSESSION_REQUIRED -> BOUND | FAILED | EXPIRED */
export type FlowState =
  | 'BOUND'
  | 'EXPIRED'
  | 'FAILED'
  | 'PENDING'
  | 'POSSESSION_REQUIRED'
  | 'VERIFIED';

/** MOBILE: Prove Key, Mobile Auth or SMS OTP. DESKTOP: Instant Link by SMS. NONE: your own possession check, then bindPhone */
export type PossessionType =
  | 'DESKTOP'
  | 'MOBILE'
  | 'NONE';

/** Prove's regions: US serves North-American numbers (+1), EU every other country */
export type ProveRegion =
  | 'EU'
  | 'US';

export type StartUnifyInput = {
  /** Let the person re-enter a wrong code (up to 3 tries) */
  allowOtpRetry?: boolean | null | undefined;
  checkReputation?: boolean | null | undefined;
  clientCustomerId?: string | null | undefined;
  clientHumanId?: string | null | undefined;
  /** Your id for this start. Repeating the same start with it returns the same flow (no second SMS) */
  clientRequestId?: string | null | undefined;
  /** The Prove Key registration to restore; defaults to the customer's last one */
  deviceId?: string | null | undefined;
  /** The person's email address (letters, digits and @ . + only, Prove's rule) */
  emailAddress?: string | null | undefined;
  /** DESKTOP only (required there): where the Instant Link leads */
  finalTargetUrl?: string | null | undefined;
  /** Trusted callers: the end user's IP address. For public callers the gateway sends the address it sees, and refuses this field */
  ipAddress?: string | null | undefined;
  /** Any common format; US numbers need no +1. Sent to Prove as E.164. May be left out for MOBILE (US Mobile Auth finds it), with a proveId, and for NONE (the Prove Key or bindPhone names it); the flow then learns it from Prove */
  phoneNumber?: string | null | undefined;
  possessionType: PossessionType;
  /** The proveId of an earlier success: identifies the person instead of phoneNumber */
  proveId?: string | null | undefined;
  /** Force a full possession check and move the Prove Key to this number (after a 9101) */
  rebind?: boolean | null | undefined;
  /** Prove's region for a start without phoneNumber (default: PROVE_DEFAULT_REGION). With a phoneNumber the number's country decides; naming another region is an InvalidInputError */
  region?: ProveRegion | null | undefined;
  /** At most 160 characters; on MOBILE it must contain #### (4 to 6 #) for the code */
  smsMessage?: string | null | undefined;
};

export type PageFlowFragment = { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> };

type PageError_BindNotAllowedError_Fragment = { __typename: 'BindNotAllowedError', state: FlowState, code: ErrorCode, message: string };

type PageError_FlowExpiredError_Fragment = { __typename: 'FlowExpiredError', code: ErrorCode, message: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } };

type PageError_FlowNotFoundError_Fragment = { __typename: 'FlowNotFoundError', code: ErrorCode, message: string };

type PageError_InvalidInputError_Fragment = { __typename: 'InvalidInputError', field: string, code: ErrorCode, message: string };

type PageError_NotAuthorizedError_Fragment = { __typename: 'NotAuthorizedError', code: ErrorCode, message: string };

type PageError_PossessionFailedError_Fragment = { __typename: 'PossessionFailedError', code: ErrorCode, message: string, failureReasons: Array<{ code: number, description: string }>, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } };

type PageError_ProveKeyMismatchError_Fragment = { __typename: 'ProveKeyMismatchError', upstreamCode: number, rebindRequired: boolean, code: ErrorCode, message: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } };

type PageError_RateLimitedError_Fragment = { __typename: 'RateLimitedError', retryAfterSeconds: number, code: ErrorCode, message: string };

type PageError_UpstreamError_Fragment = { __typename: 'UpstreamError', code: ErrorCode, message: string };

export type PageErrorFragment =
  | PageError_BindNotAllowedError_Fragment
  | PageError_FlowExpiredError_Fragment
  | PageError_FlowNotFoundError_Fragment
  | PageError_InvalidInputError_Fragment
  | PageError_NotAuthorizedError_Fragment
  | PageError_PossessionFailedError_Fragment
  | PageError_ProveKeyMismatchError_Fragment
  | PageError_RateLimitedError_Fragment
  | PageError_UpstreamError_Fragment
;

export type PageStartMutationVariables = Exact<{
  input: StartUnifyInput;
}>;


export type PageStartMutation = { startUnify:
    | { __typename: 'InvalidInputError', field: string, code: ErrorCode, message: string }
    | { __typename: 'RateLimitedError', retryAfterSeconds: number, code: ErrorCode, message: string }
    | { __typename: 'StartUnifyPayload', authToken: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'UpstreamError', code: ErrorCode, message: string }
   };

export type PageStatusQueryVariables = Exact<{
  flowId: string | number;
}>;


export type PageStatusQuery = { unifyStatus:
    | { __typename: 'FlowExpiredError', code: ErrorCode, message: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'FlowNotFoundError', code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, code: ErrorCode, message: string }
    | { __typename: 'PossessionFailedError', code: ErrorCode, message: string, failureReasons: Array<{ code: number, description: string }>, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'ProveKeyMismatchError', upstreamCode: number, rebindRequired: boolean, code: ErrorCode, message: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'UnifyStatusPayload', flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'UpstreamError', code: ErrorCode, message: string }
   };

export type PageWatchSubscriptionVariables = Exact<{
  flowId: string | number;
}>;


export type PageWatchSubscription = { unifyStatus:
    | { __typename: 'FlowExpiredError', code: ErrorCode, message: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'FlowNotFoundError', code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, code: ErrorCode, message: string }
    | { __typename: 'PossessionFailedError', code: ErrorCode, message: string, failureReasons: Array<{ code: number, description: string }>, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'ProveKeyMismatchError', upstreamCode: number, rebindRequired: boolean, code: ErrorCode, message: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'UnifyStatusPayload', flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'UpstreamError', code: ErrorCode, message: string }
   };

export type PageBindMutationVariables = Exact<{
  input: BindPhoneInput;
}>;


export type PageBindMutation = { bindPhone:
    | { __typename: 'BindNotAllowedError', state: FlowState, code: ErrorCode, message: string }
    | { __typename: 'BindPhonePayload', flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'FlowExpiredError', code: ErrorCode, message: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'FlowNotFoundError', code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, code: ErrorCode, message: string }
    | { __typename: 'NotAuthorizedError', code: ErrorCode, message: string }
    | { __typename: 'PossessionFailedError', code: ErrorCode, message: string, failureReasons: Array<{ code: number, description: string }>, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'ProveKeyMismatchError', upstreamCode: number, rebindRequired: boolean, code: ErrorCode, message: string, flow: { id: string, possessionType: PossessionType, state: FlowState, phoneNumber: string | null, deviceId: string | null, expiresAt: string, updatedAt: string, failureReasons: Array<{ code: number, description: string }> } }
    | { __typename: 'UpstreamError', code: ErrorCode, message: string }
   };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const PageFlowFragmentDoc = new TypedDocumentString(`
    fragment PageFlow on UnifyFlow {
  id
  possessionType
  state
  phoneNumber
  deviceId
  failureReasons {
    code
    description
  }
  expiresAt
  updatedAt
}
    `, {"fragmentName":"PageFlow"}) as unknown as TypedDocumentString<PageFlowFragment, unknown>;
export const PageErrorFragmentDoc = new TypedDocumentString(`
    fragment PageError on Error {
  __typename
  code
  message
  ... on ProveKeyMismatchError {
    upstreamCode
    rebindRequired
    flow {
      ...PageFlow
    }
  }
  ... on PossessionFailedError {
    failureReasons {
      code
      description
    }
    flow {
      ...PageFlow
    }
  }
  ... on FlowExpiredError {
    flow {
      ...PageFlow
    }
  }
  ... on InvalidInputError {
    field
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
  ... on BindNotAllowedError {
    state
  }
}
    fragment PageFlow on UnifyFlow {
  id
  possessionType
  state
  phoneNumber
  deviceId
  failureReasons {
    code
    description
  }
  expiresAt
  updatedAt
}`, {"fragmentName":"PageError"}) as unknown as TypedDocumentString<PageErrorFragment, unknown>;
export const PageStartDocument = new TypedDocumentString(`
    mutation PageStart($input: StartUnifyInput!) {
  startUnify(input: $input) {
    __typename
    ... on StartUnifyPayload {
      authToken
      flow {
        ...PageFlow
      }
    }
    ... on Error {
      ...PageError
    }
  }
}
    fragment PageFlow on UnifyFlow {
  id
  possessionType
  state
  phoneNumber
  deviceId
  failureReasons {
    code
    description
  }
  expiresAt
  updatedAt
}
fragment PageError on Error {
  __typename
  code
  message
  ... on ProveKeyMismatchError {
    upstreamCode
    rebindRequired
    flow {
      ...PageFlow
    }
  }
  ... on PossessionFailedError {
    failureReasons {
      code
      description
    }
    flow {
      ...PageFlow
    }
  }
  ... on FlowExpiredError {
    flow {
      ...PageFlow
    }
  }
  ... on InvalidInputError {
    field
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
  ... on BindNotAllowedError {
    state
  }
}`, {"hash":"sha256:d4844105cd9a288ec4644cb16513895ea59cc276d1752b7fa25c059942bc8f3b"}) as unknown as TypedDocumentString<PageStartMutation, PageStartMutationVariables>;
export const PageStatusDocument = new TypedDocumentString(`
    query PageStatus($flowId: ID!) {
  unifyStatus(flowId: $flowId) {
    __typename
    ... on UnifyStatusPayload {
      flow {
        ...PageFlow
      }
    }
    ... on Error {
      ...PageError
    }
  }
}
    fragment PageFlow on UnifyFlow {
  id
  possessionType
  state
  phoneNumber
  deviceId
  failureReasons {
    code
    description
  }
  expiresAt
  updatedAt
}
fragment PageError on Error {
  __typename
  code
  message
  ... on ProveKeyMismatchError {
    upstreamCode
    rebindRequired
    flow {
      ...PageFlow
    }
  }
  ... on PossessionFailedError {
    failureReasons {
      code
      description
    }
    flow {
      ...PageFlow
    }
  }
  ... on FlowExpiredError {
    flow {
      ...PageFlow
    }
  }
  ... on InvalidInputError {
    field
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
  ... on BindNotAllowedError {
    state
  }
}`, {"hash":"sha256:5da41382224357bc0a6750b115df07af819be92337dcf28dbf7070f519e141e2"}) as unknown as TypedDocumentString<PageStatusQuery, PageStatusQueryVariables>;
export const PageWatchDocument = new TypedDocumentString(`
    subscription PageWatch($flowId: ID!) {
  unifyStatus(flowId: $flowId) {
    __typename
    ... on UnifyStatusPayload {
      flow {
        ...PageFlow
      }
    }
    ... on Error {
      ...PageError
    }
  }
}
    fragment PageFlow on UnifyFlow {
  id
  possessionType
  state
  phoneNumber
  deviceId
  failureReasons {
    code
    description
  }
  expiresAt
  updatedAt
}
fragment PageError on Error {
  __typename
  code
  message
  ... on ProveKeyMismatchError {
    upstreamCode
    rebindRequired
    flow {
      ...PageFlow
    }
  }
  ... on PossessionFailedError {
    failureReasons {
      code
      description
    }
    flow {
      ...PageFlow
    }
  }
  ... on FlowExpiredError {
    flow {
      ...PageFlow
    }
  }
  ... on InvalidInputError {
    field
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
  ... on BindNotAllowedError {
    state
  }
}`, {"hash":"sha256:e23a11f9dcd75f8dcc561d107cfb314576ff844d61fd225985c3cc40ac335520"}) as unknown as TypedDocumentString<PageWatchSubscription, PageWatchSubscriptionVariables>;
export const PageBindDocument = new TypedDocumentString(`
    mutation PageBind($input: BindPhoneInput!) {
  bindPhone(input: $input) {
    __typename
    ... on BindPhonePayload {
      flow {
        ...PageFlow
      }
    }
    ... on Error {
      ...PageError
    }
  }
}
    fragment PageFlow on UnifyFlow {
  id
  possessionType
  state
  phoneNumber
  deviceId
  failureReasons {
    code
    description
  }
  expiresAt
  updatedAt
}
fragment PageError on Error {
  __typename
  code
  message
  ... on ProveKeyMismatchError {
    upstreamCode
    rebindRequired
    flow {
      ...PageFlow
    }
  }
  ... on PossessionFailedError {
    failureReasons {
      code
      description
    }
    flow {
      ...PageFlow
    }
  }
  ... on FlowExpiredError {
    flow {
      ...PageFlow
    }
  }
  ... on InvalidInputError {
    field
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
  ... on BindNotAllowedError {
    state
  }
}`, {"hash":"sha256:3755c9470f0e41466ece70f951fbcc893850a90e41adafa699d15b9356e93420"}) as unknown as TypedDocumentString<PageBindMutation, PageBindMutationVariables>;