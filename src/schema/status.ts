import type { Flow } from '../flows/flow.js';
import { outcomeError } from '../flows/errors.js';
import { errorTypeMap, wrapOrThrow } from '@pothos/plugin-errors';
import { builder } from './builder.js';
import { FlowExpiredError, FlowNotFoundError, InvalidInputError, PossessionFailedError, ProveKeyMismatchError, UpstreamError } from './errors.js';
import { UnifyFlowRef } from './flow.js';
import { typedFailures } from './typed-failures.js';

const UnifyStatusPayload = builder.objectRef<{ flow: Flow }>('UnifyStatusPayload').implement({
  fields: (t) => ({ flow: t.field({ type: UnifyFlowRef, resolve: (p) => p.flow }) }),
});

/** The failures both unifyStatus fields answer as typed errors (their subclasses too: StoreUnavailableError is an UpstreamError). */
const STATUS_ERRORS = [ProveKeyMismatchError, PossessionFailedError, FlowNotFoundError, FlowExpiredError, UpstreamError, InvalidInputError] as const;
type StatusError = InstanceType<(typeof STATUS_ERRORS)[number]>;

const statusErrorOf = (error: unknown) => STATUS_ERRORS.find((type) => error instanceof type);

/**
 * The payload or one of its typed errors, the union the query and the subscription share. Written
 * out rather than made by plugin-errors (`errors:` on the field): for a subscription, that plugin
 * wraps the field's stream in an async generator of its own, held by every open subscription;
 * here the stream's failures become values in typed-failures.ts, one small object instead.
 */
const UnifyStatusResult = builder.unionType('UnifyStatusResult', {
  types: [UnifyStatusPayload, ...STATUS_ERRORS],
  // A typed failure reaches here wrapped by wrapOrThrow, which records the class it matched.
  resolveType: (value) => (errorTypeMap.get(value) as (typeof STATUS_ERRORS)[number] | undefined) ?? UnifyStatusPayload,
});

type StatusResult = { flow: Flow } | StatusError;

/**
 * A typed failure is the field's value, wrapped by plugin-errors' public wrapOrThrow (graphql-js
 * takes an Error returned by a resolver for a thrown one); any other error is thrown again and
 * stays a field error (masked if unexpected).
 */
const typedOrThrow = (error: unknown): StatusError => wrapOrThrow(error, [...STATUS_ERRORS]) as StatusError;

/** A flow as the client should read it: its payload, or its failure as a typed error. */
function asResult(flow: Flow): StatusResult {
  const failure = outcomeError(flow);
  return failure ? typedOrThrow(failure) : { flow };
}

builder.queryField('unifyStatus', (t) =>
  t.field({
    type: UnifyStatusResult,
    description:
      "Asks Prove for the flow's outcome (unless it is already final). Call it when the client SDK's AuthFinishStep fires: " +
      'asked before the device finished, Prove ends the flow as failed (reason 9100)',
    args: { flowId: t.arg.id({ required: true }) },
    resolve: async (_root, { flowId }, ctx) => {
      let flow: Flow;
      try {
        flow = await ctx.flows.refresh(String(flowId), ctx.log);
      } catch (error) {
        return typedOrThrow(error);
      }
      return asResult(flow);
    },
  }),
);

builder.subscriptionField('unifyStatus', (t) =>
  t.field({
    type: UnifyStatusResult,
    description: 'The flow as it stands, then every change, completing after a final state. Never calls Prove',
    args: { flowId: t.arg.id({ required: true }) },
    // A typed failure of the watch (no such flow, the store away) is its last value, then the stream completes.
    subscribe: (_root, { flowId }, ctx) => typedFailures(ctx.flows.watch(String(flowId), ctx.log, ctx.signal), statusErrorOf),
    resolve: (value: Flow | StatusError) => (value instanceof Error ? typedOrThrow(value) : asResult(value)),
  }),
);
