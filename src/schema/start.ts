import { builder } from './builder.js';
import { InvalidInputError, RateLimitedError, UpstreamError } from './errors.js';
import { PossessionTypeEnum, ProveRegionEnum, UnifyFlowRef } from './flow.js';
import type { Flow } from '../flows/flow.js';

const StartUnifyInput = builder.inputType('StartUnifyInput', {
  fields: (t) => ({
    possessionType: t.field({ type: PossessionTypeEnum, required: true }),
    phoneNumber: t.string({
      description:
        'Any common format; US numbers need no +1. Sent to Prove as E.164. May be left out for MOBILE (US Mobile Auth finds it), ' +
        'with a proveId, and for NONE (the Prove Key or bindPhone names it); the flow then learns it from Prove',
    }),
    region: t.field({
      type: ProveRegionEnum,
      description:
        "Prove's region for a start without phoneNumber (default: PROVE_DEFAULT_REGION). With a phoneNumber the number's country decides; " +
        'naming another region is an InvalidInputError',
    }),
    proveId: t.string({ description: 'The proveId of an earlier success: identifies the person instead of phoneNumber' }),
    emailAddress: t.string({ description: "The person's email address (letters, digits and @ . + only, Prove's rule)" }),
    ipAddress: t.string({
      description: "Trusted callers: the end user's IP address. For public callers the gateway sends the address it sees, and refuses this field",
    }),
    finalTargetUrl: t.string({ description: 'DESKTOP only (required there): where the Instant Link leads' }),
    smsMessage: t.string({ description: 'At most 160 characters; on MOBILE it must contain #### (4 to 6 #) for the code' }),
    allowOtpRetry: t.boolean({ description: 'Let the person re-enter a wrong code (up to 3 tries)' }),
    rebind: t.boolean({ description: 'Force a full possession check and move the Prove Key to this number (after a 9101)' }),
    checkReputation: t.boolean(),
    deviceId: t.string({ description: 'The Prove Key registration to restore; defaults to the customer\'s last one' }),
    clientCustomerId: t.string(),
    clientHumanId: t.string(),
    clientRequestId: t.string({
      description: 'Your id for this start. Repeating the same start with it returns the same flow (no second SMS)',
    }),
  }),
});

const StartUnifyPayload = builder.objectRef<{ flow: Flow; authToken: string }>('StartUnifyPayload').implement({
  fields: (t) => ({
    flow: t.field({ type: UnifyFlowRef, resolve: (p) => p.flow }),
    authToken: t.exposeString('authToken', { description: "Hand this to the Prove client SDK's Authenticate() on the device" }),
  }),
});

builder.mutationField('startUnify', (t) =>
  t.field({
    type: StartUnifyPayload,
    description: 'Starts a possession flow with Prove. Then run the client SDK with authToken; when it finishes, ask unifyStatus',
    args: { input: t.arg({ type: StartUnifyInput, required: true }) },
    errors: {
      types: [InvalidInputError, RateLimitedError, UpstreamError],
      result: { name: 'StartUnifyPayload' },
      union: { name: 'StartUnifyResult' },
    },
    resolve: (_root, { input }, ctx) => ctx.flows.start(input, ctx.caller, ctx.log),
  }),
);
