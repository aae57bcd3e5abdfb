import type { Flow } from '../flows/flow.js';
import { outcomeError } from '../flows/errors.js';
import { builder } from './builder.js';
import {
  BindNotAllowedError, FlowExpiredError, FlowNotFoundError, InvalidInputError, NotAuthorizedError,
  PossessionFailedError, ProveKeyMismatchError, UpstreamError,
} from './errors.js';
import { UnifyFlowRef } from './flow.js';

const BindPhoneInput = builder.inputType('BindPhoneInput', {
  fields: (t) => ({
    flowId: t.id({ required: true }),
    phoneNumber: t.string({ required: true }),
    clientRequestId: t.string(),
  }),
});

const BindPhonePayload = builder.objectRef<{ flow: Flow }>('BindPhonePayload').implement({
  fields: (t) => ({ flow: t.field({ type: UnifyFlowRef, resolve: (p) => p.flow }) }),
});

builder.mutationField('bindPhone', (t) =>
  t.field({
    type: BindPhonePayload,
    description:
      'NONE flows in POSSESSION_REQUIRED only, trusted callers only: asserts that your own possession check passed ' +
      'and binds the phone to the Prove Key',
    args: { input: t.arg({ type: BindPhoneInput, required: true }) },
    authScopes: { trusted: true },
    unauthorizedError: (_parent, _args, ctx) => NotAuthorizedError.forGateway(ctx.apiKeysConfigured),
    errors: {
      types: [
        BindNotAllowedError, ProveKeyMismatchError, PossessionFailedError, FlowNotFoundError, FlowExpiredError,
        NotAuthorizedError, UpstreamError, InvalidInputError,
      ],
      result: { name: 'BindPhonePayload' },
      union: { name: 'BindPhoneResult' },
    },
    resolve: async (_root, { input }, ctx) => {
      const flow = await ctx.flows.bind(String(input.flowId), input.phoneNumber, ctx.caller, ctx.log, input.clientRequestId);
      const failure = outcomeError(flow);
      if (failure) throw failure;
      return { flow };
    },
  }),
);
