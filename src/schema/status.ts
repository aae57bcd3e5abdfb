import type { Flow } from '../flows/flow.js';
import { outcomeError } from '../flows/errors.js';
import { builder } from './builder.js';
import { FlowExpiredError, FlowNotFoundError, InvalidInputError, PossessionFailedError, ProveKeyMismatchError, UpstreamError } from './errors.js';
import { UnifyFlowRef } from './flow.js';

const UnifyStatusPayload = builder.objectRef<{ flow: Flow }>('UnifyStatusPayload').implement({
  fields: (t) => ({ flow: t.field({ type: UnifyFlowRef, resolve: (p) => p.flow }) }),
});

// The query and the subscription share one result union (plugin-errors reuses it by result name).
const statusErrors = {
  types: [ProveKeyMismatchError, PossessionFailedError, FlowNotFoundError, FlowExpiredError, UpstreamError, InvalidInputError],
  result: { name: 'UnifyStatusPayload' },
  union: { name: 'UnifyStatusResult' },
};

/** A flow as the client should read it: its payload, or its failure as a typed error. */
function asResult(flow: Flow): { flow: Flow } {
  const failure = outcomeError(flow);
  if (failure) throw failure;
  return { flow };
}

builder.queryField('unifyStatus', (t) =>
  t.field({
    type: UnifyStatusPayload,
    description:
      "Asks Prove for the flow's outcome (unless it is already final). Call it when the client SDK's AuthFinishStep fires: " +
      'asked before the device finished, Prove ends the flow as failed (reason 9100)',
    args: { flowId: t.arg.id({ required: true }) },
    errors: statusErrors,
    resolve: async (_root, { flowId }, ctx) => asResult(await ctx.flows.refresh(String(flowId))),
  }),
);

builder.subscriptionField('unifyStatus', (t) =>
  t.field({
    type: UnifyStatusPayload,
    description: 'The flow as it stands, then every change, completing after a final state. Never calls Prove',
    args: { flowId: t.arg.id({ required: true }) },
    errors: statusErrors,
    subscribe: (_root, { flowId }, ctx) => ctx.flows.watch(String(flowId), ctx.signal),
    resolve: (flow: Flow) => asResult(flow),
  }),
);
