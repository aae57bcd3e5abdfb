/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
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

export type StartUnifyMutationVariables = Exact<{
  input: StartUnifyInput;
}>;


export type StartUnifyMutation = { startUnify:
    | { __typename: 'InvalidInputError', code: ErrorCode, message: string }
    | { __typename: 'RateLimitedError', code: ErrorCode, message: string }
    | { __typename: 'StartUnifyPayload', authToken: string, flow: { id: string, state: FlowState } }
    | { __typename: 'UpstreamError', code: ErrorCode, message: string }
   };

export type UnifyStatusQueryVariables = Exact<{
  flowId: string | number;
}>;


export type UnifyStatusQuery = { unifyStatus:
    | { __typename: 'FlowExpiredError', code: ErrorCode, message: string }
    | { __typename: 'FlowNotFoundError', code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', code: ErrorCode, message: string }
    | { __typename: 'PossessionFailedError', code: ErrorCode, message: string }
    | { __typename: 'ProveKeyMismatchError', code: ErrorCode, message: string }
    | { __typename: 'UnifyStatusPayload', flow: { state: FlowState, deviceId: string | null } }
    | { __typename: 'UpstreamError', code: ErrorCode, message: string }
   };

export type WatchStatusSubscriptionVariables = Exact<{
  flowId: string | number;
}>;


export type WatchStatusSubscription = { unifyStatus:
    | { __typename: 'FlowExpiredError', code: ErrorCode, message: string }
    | { __typename: 'FlowNotFoundError', code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', code: ErrorCode, message: string }
    | { __typename: 'PossessionFailedError', code: ErrorCode, message: string }
    | { __typename: 'ProveKeyMismatchError', code: ErrorCode, message: string }
    | { __typename: 'UnifyStatusPayload', flow: { state: FlowState } }
    | { __typename: 'UpstreamError', code: ErrorCode, message: string }
   };


export const StartUnifyDocument = {"__meta__":{"hash":"sha256:7809ea39c9a7b1456efb0c51de3cb0938161db5efc36e8643892b3310cf0f66d"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"StartUnify"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"StartUnifyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"startUnify"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"StartUnifyPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"authToken"}},{"kind":"Field","name":{"kind":"Name","value":"flow"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<StartUnifyMutation, StartUnifyMutationVariables>;
export const UnifyStatusDocument = {"__meta__":{"hash":"sha256:724a1f103c1836120e3bb890f3acdadd88cd1aff456a43840b7d19f4b0ed796b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"UnifyStatus"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"flowId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"unifyStatus"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"flowId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"flowId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UnifyStatusPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"flow"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<UnifyStatusQuery, UnifyStatusQueryVariables>;
export const WatchStatusDocument = {"__meta__":{"hash":"sha256:b184a7b4ca6d00b57ac80ac7653df1e33f394debc225af0045d35bf88038ca7c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"WatchStatus"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"flowId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"unifyStatus"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"flowId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"flowId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UnifyStatusPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"flow"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"state"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<WatchStatusSubscription, WatchStatusSubscriptionVariables>;