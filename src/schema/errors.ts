import { ERROR_CODES, BindNotAllowedError, FlowExpiredError, FlowNotFoundError, GatewayError, InvalidInputError,
  NotAuthorizedError, PossessionFailedError, ProveKeyMismatchError, RateLimitedError, UpstreamError } from '../flows/errors.js';
import { builder } from './builder.js';
import { FailureReasonRef, FlowStateEnum, PossessionTypeEnum, UnifyFlowRef } from './flow.js';

/** The domain's error classes as GraphQL types of the same names, all implementing `Error`. */

export const ErrorCodeEnum = builder.enumType('ErrorCode', { values: ERROR_CODES });

export const ErrorInterface = builder.interfaceRef<GatewayError>('Error').implement({
  description: 'Every expected failure: a stable `code` to branch on and a `message` for people',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
  }),
});

const common = { interfaces: [ErrorInterface] };

builder.objectType(InvalidInputError, {
  ...common,
  name: 'InvalidInputError',
  description: 'The input was refused; `field` names the culprit',
  fields: (t) => ({ field: t.exposeString('field') }),
});
builder.objectType(RateLimitedError, {
  ...common,
  name: 'RateLimitedError',
  description: 'Too many attempts; try again after `retryAfterSeconds`',
  fields: (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
});
builder.objectType(UpstreamError, {
  ...common,
  name: 'UpstreamError',
  description: 'Prove could not be reached or failed; the flow is unchanged',
  fields: (t) => ({
    retryable: t.exposeBoolean('retryable'),
    upstreamStatus: t.exposeInt('upstreamStatus', { nullable: true }),
  }),
});
builder.objectType(FlowNotFoundError, {
  ...common,
  name: 'FlowNotFoundError',
  description:
    'No flow has this id: never started, past its retention, or lost by a store restarted without persistence (the message says so when a subscription saw it vanish); start a new one',
});
builder.objectType(FlowExpiredError, {
  ...common,
  name: 'FlowExpiredError',
  description: 'The flow outlived its lifetime (15 minutes); start a new one',
  fields: (t) => ({ flow: t.field({ type: UnifyFlowRef, resolve: (error) => error.flow }) }),
});
builder.objectType(ProveKeyMismatchError, {
  ...common,
  name: 'ProveKeyMismatchError',
  description:
    'Prove reason 9101: the phone number does not match the Prove Key on the device. Start again with `rebind: true`',
  fields: (t) => ({
    upstreamCode: t.exposeInt('upstreamCode'),
    rebindRequired: t.exposeBoolean('rebindRequired'),
    flow: t.field({ type: UnifyFlowRef, resolve: (error) => error.flow }),
  }),
});
builder.objectType(PossessionFailedError, {
  ...common,
  name: 'PossessionFailedError',
  description: 'Prove could not confirm possession of the phone; `failureReasons` says why',
  fields: (t) => ({
    failureReasons: t.field({ type: [FailureReasonRef], resolve: (error) => error.failureReasons }),
    flow: t.field({ type: UnifyFlowRef, resolve: (error) => error.flow }),
  }),
});
builder.objectType(BindNotAllowedError, {
  ...common,
  name: 'BindNotAllowedError',
  description: 'Only a NONE flow in POSSESSION_REQUIRED can be bound',
  fields: (t) => ({
    state: t.field({ type: FlowStateEnum, resolve: (error) => error.state }),
    possessionType: t.field({ type: PossessionTypeEnum, resolve: (error) => error.possessionType }),
  }),
});
builder.objectType(NotAuthorizedError, {
  ...common,
  name: 'NotAuthorizedError',
  description: 'This needs a trusted caller (Authorization: Bearer <api key>)',
});

export {
  BindNotAllowedError, FlowExpiredError, FlowNotFoundError, InvalidInputError, NotAuthorizedError,
  PossessionFailedError, ProveKeyMismatchError, RateLimitedError, UpstreamError,
};
