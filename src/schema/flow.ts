import { FLOW_STATES, POSSESSION_TYPES, failureReasonsOf, type Evaluation, type FailureReason, type Flow } from '../flows/flow.js';
import { isTerminal } from '../flows/state-machine.js';
import { maskPhoneNumber } from '../flows/phone.js';
import { builder } from './builder.js';
import { DateTime } from './scalars.js';

export const PossessionTypeEnum = builder.enumType('PossessionType', {
  description: 'MOBILE: Prove Key, Mobile Auth or SMS OTP. DESKTOP: Instant Link by SMS. NONE: your own possession check, then bindPhone',
  values: POSSESSION_TYPES,
});

export const ProveRegionEnum = builder.enumType('ProveRegion', {
  description: "Prove's regions: US serves North-American numbers (+1), EU every other country",
  values: { US: { value: 'us' as const }, EU: { value: 'eu' as const } },
});

export const FlowStateEnum = builder.enumType('FlowState', {
  description: 'PENDING -> VERIFIED | FAILED | POSSESSION_REQUIRED | EXPIRED; POSSESSION_REQUIRED -> BOUND | FAILED | EXPIRED',
  values: FLOW_STATES,
});

export const FailureReasonRef = builder.objectRef<FailureReason>('FailureReason').implement({
  description: "One of Prove's failure reasons, e.g. 9101 (phone number does not match the Prove Key)",
  fields: (t) => ({
    code: t.exposeInt('code'),
    description: t.exposeString('description'),
    category: t.exposeString('category'),
  }),
});

export const EvaluationRef = builder.objectRef<Evaluation>('Evaluation').implement({
  description: "Prove's evaluation of one category (authentication, risk, ...)",
  fields: (t) => ({
    category: t.exposeString('category'),
    result: t.exposeString('result'),
    failureReasons: t.field({ type: [FailureReasonRef], resolve: (e) => e.failureReasons }),
  }),
});

export const UnifyFlowRef = builder.objectRef<Flow>('UnifyFlow').implement({
  description: 'One phone-possession flow. Its id is a capability: whoever holds it may read its status',
  fields: (t) => ({
    id: t.exposeID('id'),
    possessionType: t.field({ type: PossessionTypeEnum, resolve: (f) => f.possessionType }),
    state: t.field({ type: FlowStateEnum, resolve: (f) => f.state }),
    terminal: t.boolean({
      description: 'True once the state can no longer change (VERIFIED, BOUND, FAILED, EXPIRED)',
      resolve: (f) => isTerminal(f.state),
    }),
    phoneNumber: t.string({
      nullable: true,
      description:
        'The number Prove verified (it may differ from the one the flow started with: the person may change it on the device); ' +
        'null until a phone-less start learns it. E.164 for trusted callers; only the last four digits for everyone else',
      resolve: (f, _args, ctx) =>
        f.phoneNumber === undefined ? null : ctx.caller.kind === 'trusted' ? f.phoneNumber : maskPhoneNumber(f.phoneNumber),
    }),
    region: t.field({
      type: ProveRegionEnum,
      nullable: true,
      description: "The Prove region that holds this flow (null only for flows stored before regions were recorded)",
      resolve: (f) => f.region ?? null,
    }),
    deviceId: t.exposeString('deviceId', { nullable: true, description: 'The Prove Key registration on the device' }),
    proveId: t.exposeString('proveId', { nullable: true }),
    clientHumanId: t.exposeString('clientHumanId', { nullable: true }),
    clientRequestId: t.exposeString('clientRequestId', { nullable: true }),
    evaluation: t.field({ type: [EvaluationRef], resolve: (f) => f.evaluation }),
    failureReasons: t.field({
      type: [FailureReasonRef],
      description: 'The failure reasons of every evaluation category, flattened',
      resolve: (f) => failureReasonsOf(f),
    }),
    createdAt: t.field({ type: DateTime, resolve: (f) => f.createdAt }),
    updatedAt: t.field({ type: DateTime, resolve: (f) => f.updatedAt }),
    expiresAt: t.field({ type: DateTime, resolve: (f) => f.expiresAt }),
    correlationId: t.string({
      nullable: true,
      description: "Prove's correlation id: trusted callers only (null for everyone else)",
      // A check rather than authScopes: scope-auth builds a ForbiddenError (a stack trace) for every
      // public read before its unauthorizedResolver answers null, a tenth of a flow(id) request's CPU.
      resolve: (f, _args, ctx) => (ctx.caller.kind === 'trusted' ? f.correlationId : null),
    }),
  }),
});

builder.queryField('flow', (t) =>
  t.field({
    type: UnifyFlowRef,
    nullable: true,
    description: 'The stored state of a flow; never calls Prove. Null when no flow has this id',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.flows.find(String(id)),
  }),
);
