/**
 * Prove's documented request and response examples for the Unify endpoints, written down as data:
 * from the newest server SDK (prove-identity/prove-sdk-server-typescript 0.14.x: its docs/models
 * and the examples its generator records), from Prove's reference pages, and from the shapes
 * prove-api.md collects (boolean `success`, `evaluation` with failure reasons). Each example says
 * where it comes from. No SDK code is used: only the JSON the documentation shows.
 */

export type JsonType = 'string' | 'boolean' | 'object';

/** The documented response fields per endpoint, with their JSON types (docs/models field tables). */
export const RESPONSE_FIELDS: Record<string, Record<string, JsonType>> = {
  '/v3/unify': { success: 'string', correlationId: 'string', authToken: 'string' },
  '/v3/unify-status': {
    success: 'string', phoneNumber: 'string', proveId: 'string', deviceId: 'string',
    clientHumanId: 'string', clientRequestId: 'string', evaluation: 'object',
  },
  '/v3/unify-bind': {
    success: 'string', phoneNumber: 'string', proveId: 'string', deviceId: 'string',
    clientHumanId: 'string', clientRequestId: 'string', evaluation: 'object',
  },
  '/v3/device/revoke': { success: 'boolean' },
  error: { code: 'object', message: 'string' },
};

/** The documented request bodies, verbatim. */
export const REQUEST_EXAMPLES = {
  /** V3UnifyRequest (docs/models/components/v3unifyrequest.md). 2001004011 is not a sandbox user. */
  unify: {
    allowOTPRetry: true,
    checkReputation: true,
    clientCustomerId: 'e0f78bc2-f748-4eda-9d29-d756844507fc',
    clientHumanId: '7bfbb91d-9df8-4ec0-99a6-de05ecc23a9e',
    clientRequestId: '71010d88-d0e7-4a24-9297-d1be6fefde81',
    deviceId: 'bf9ea15d-7dfa-4bb4-a64c-6c26b53472fc',
    emailAddress: 'sbutrimovichb@who.int',
    finalTargetUrl: 'https://www.example.com/landing-page',
    ipAddress: '192.168.0.1',
    mobileAuthEnabled: true,
    phoneNumber: '2001004011',
    possessionType: 'mobile',
    proveId: 'a07b94ce-218c-461f-beda-d92480e40f61',
    rebind: true,
    smsMessage: '#### is your verification code.',
  },
  /** V3UnifyStatusRequest as the generator's default example sends it (with phoneNumber). */
  unifyStatus: {
    clientRequestId: '71010d88-d0e7-4a24-9297-d1be6fefde81',
    correlationId: '713189b8-5555-4b08-83ba-75d08780aebd',
    phoneNumber: '2001004011',
  },
  /** V3UnifyStatusRequest, "Response with Success/Failed Evaluation" examples (no phoneNumber). */
  unifyStatusWithoutPhone: {
    clientRequestId: '71010d88-d0e7-4a24-9297-d1be6fefde81',
    correlationId: '713189b8-5555-4b08-83ba-75d08780aebd',
  },
  /** V3UnifyBindRequest. */
  unifyBind: {
    clientRequestId: '71010d88-d0e7-4a24-9297-d1be6fefde81',
    correlationId: '713189b8-5555-4b08-83ba-75d08780aebd',
    phoneNumber: '2001004011',
  },
  /** V3DeviceRevokeRequest. */
  deviceRevoke: {
    clientRequestId: '71010d88-d0e7-4a24-9297-d1be6fefde81',
    deviceId: 'bf9ea15d-7dfa-4bb4-a64c-6c26b53472fc',
  },
} as const;

export interface OutcomeExample {
  name: string;
  source: string;
  body: Record<string, unknown>;
  /** What the adapter must hand the gateway. */
  read: Record<string, unknown>;
  /** The flow state this answer means for unify-status. */
  state: 'PENDING' | 'VERIFIED' | 'FAILED' | 'POSSESSION_REQUIRED';
}

const IDS = {
  clientHumanId: '7bfbb91d-9df8-4ec0-99a6-de05ecc23a9e',
  clientRequestId: '71010d88-d0e7-4a24-9297-d1be6fefde81',
  deviceId: 'bf9ea15d-7dfa-4bb4-a64c-6c26b53472fc',
  proveId: 'a07b94ce-218c-461f-beda-d92480e40f61',
};

/** unify-status / unify-bind answers as documented, and how each must be read. */
export const OUTCOME_EXAMPLES: OutcomeExample[] = [
  {
    name: 'the default 200 example: evaluation { key: {} }',
    source: 'SDK V3UnifyStatusResponse / V3UnifyBindResponse example',
    body: { ...IDS, evaluation: { key: {} }, phoneNumber: '2001004011', success: 'true' },
    read: { ...IDS, evaluation: { key: { failureReasons: {} } }, phoneNumber: '2001004011', success: 'true' },
    state: 'VERIFIED',
  },
  {
    name: 'success with categories that have no result, one of them named "success"',
    source: 'SDK example "Response with Success Evaluation"',
    body: { ...IDS, evaluation: { authentication: {}, identification: {}, success: {} }, phoneNumber: '2001004011', success: 'true' },
    read: {
      ...IDS,
      evaluation: { authentication: { failureReasons: {} }, identification: { failureReasons: {} }, success: { failureReasons: {} } },
      phoneNumber: '2001004011',
      success: 'true',
    },
    state: 'VERIFIED',
  },
  {
    name: 'failure with categories that have no result',
    source: 'SDK example "Response with Failed Evaluation"',
    body: { evaluation: { authentication: {}, identification: {}, success: {} }, phoneNumber: '2001004011', success: 'false' },
    read: {
      evaluation: { authentication: { failureReasons: {} }, identification: { failureReasons: {} }, success: { failureReasons: {} } },
      phoneNumber: '2001004011',
      success: 'false',
    },
    state: 'FAILED',
  },
  {
    name: 'an empty evaluation',
    source: 'V3UnifyStatusResponseEvaluation example ({})',
    body: { evaluation: {}, phoneNumber: '2001004011', success: 'pending' },
    read: { evaluation: {}, phoneNumber: '2001004011', success: 'pending' },
    state: 'PENDING',
  },
  {
    name: 'success as a JSON boolean true',
    source: 'Prove reference page examples (prove-api.md)',
    body: { success: true, phoneNumber: '2001004011', proveId: IDS.proveId },
    read: { success: 'true', phoneNumber: '2001004011', proveId: IDS.proveId },
    state: 'VERIFIED',
  },
  {
    name: 'success as a JSON boolean false',
    source: 'Prove reference page examples (prove-api.md)',
    body: { success: false, phoneNumber: '2001004011' },
    read: { success: 'false', phoneNumber: '2001004011' },
    state: 'FAILED',
  },
  {
    name: 'a Global Fraud Policy failure with reasons keyed by code, and unknown keys beside them',
    source: 'Prove evaluation guide (prove-api.md)',
    body: {
      success: 'false',
      phoneNumber: '2001004011',
      evaluation: {
        authentication: { result: 'fail', failureReasons: { '9101': 'phone number does not match the Prove Key' }, score: 3 },
        risk: { result: 'pass', extra: { nested: true } },
      },
    },
    read: {
      success: 'false',
      phoneNumber: '2001004011',
      evaluation: {
        authentication: { result: 'fail', failureReasons: { '9101': 'phone number does not match the Prove Key' } },
        risk: { result: 'pass', failureReasons: {} },
      },
    },
    state: 'FAILED',
  },
  {
    name: 'possession_required without an evaluation',
    source: 'customer-supplied possession guide',
    body: { success: 'possession_required', clientRequestId: IDS.clientRequestId },
    read: { success: 'possession_required', clientRequestId: IDS.clientRequestId },
    state: 'POSSESSION_REQUIRED',
  },
];

export interface StartedExample {
  name: string;
  source: string;
  body: Record<string, unknown>;
  read: Record<string, unknown>;
}

/** /v3/unify answers as documented. */
export const STARTED_EXAMPLES: StartedExample[] = [
  {
    name: 'the default example',
    source: 'SDK V3UnifyResponse example',
    body: { authToken: 'eyJhbGciOi...', correlationId: '713189b8-5555-4b08-83ba-75d08780aebd', success: 'pending' },
    read: { authToken: 'eyJhbGciOi...', correlationId: '713189b8-5555-4b08-83ba-75d08780aebd', success: 'pending' },
  },
  {
    name: 'success "success"',
    source: 'a Prove reference page example',
    body: { authToken: 'eyJhbGciOi...', correlationId: '713189b8-5555-4b08-83ba-75d08780aebd', success: 'success' },
    read: { authToken: 'eyJhbGciOi...', correlationId: '713189b8-5555-4b08-83ba-75d08780aebd', success: 'success' },
  },
  {
    name: 'no authToken (optional in the newest SDK)',
    source: 'SDK V3UnifyResponse fields',
    body: { correlationId: '713189b8-5555-4b08-83ba-75d08780aebd', success: 'pending' },
    read: { correlationId: '713189b8-5555-4b08-83ba-75d08780aebd', success: 'pending' },
  },
];

export interface ErrorExample {
  status: number;
  body: { code: number; message: string };
  /** The ProveError kind the adapter must classify it as. */
  kind: 'invalid_request' | 'unauthorized' | 'unavailable' | 'rate_limited';
}

/** Error bodies from the SDK's examples for every Unify endpoint. */
export const ERROR_EXAMPLES: ErrorExample[] = [
  { status: 400, body: { code: 1001, message: 'invalid request' }, kind: 'invalid_request' },
  { status: 401, body: { code: 8002, message: 'not authorized' }, kind: 'unauthorized' },
  { status: 403, body: { code: 8003, message: 'Access forbidden: insufficient permissions' }, kind: 'unauthorized' },
  { status: 500, body: { code: 1000, message: 'error occurred' }, kind: 'unavailable' },
  { status: 429, body: { code: 8000, message: 'too many requests' }, kind: 'rate_limited' },
];
