import { builder } from './builder.js';
import { InvalidInputError, NotAuthorizedError, UpstreamError } from './errors.js';
import { ProveRegionEnum } from './flow.js';

const RevokeDeviceInput = builder.inputType('RevokeDeviceInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true, description: 'The Prove Key to deactivate (a flow\'s deviceId)' }),
    clientRequestId: t.string({ description: 'Your id for this request (one is made when absent)' }),
    region: t.field({
      type: ProveRegionEnum,
      description: "The Prove region that holds the key (the region of the flow that placed it). Absent: the default region, then the other if the default does not know the device",
    }),
  }),
});

const RevokeDevicePayload = builder.objectRef<{ deviceId: string; revoked: boolean }>('RevokeDevicePayload').implement({
  fields: (t) => ({
    deviceId: t.exposeString('deviceId'),
    revoked: t.exposeBoolean('revoked', { description: 'False when Prove does not know this device (nothing was revoked)' }),
  }),
});

builder.mutationField('revokeDevice', (t) =>
  t.field({
    type: RevokeDevicePayload,
    description:
      'Trusted callers only: deactivates a Prove Key (lost device, account takeover; Prove POST /v3/device/revoke). ' +
      'The next flow on that device needs a full possession check, and the gateway stops sending the key for registration recovery',
    args: { input: t.arg({ type: RevokeDeviceInput, required: true }) },
    authScopes: { trusted: true },
    unauthorizedError: (_parent, _args, ctx) => NotAuthorizedError.forGateway(ctx.apiKeysConfigured),
    errors: {
      types: [NotAuthorizedError, InvalidInputError, UpstreamError],
      result: { name: 'RevokeDevicePayload' },
      union: { name: 'RevokeDeviceResult' },
    },
    resolve: (_root, { input }, ctx) => ctx.flows.revokeDevice(input.deviceId, ctx.caller, ctx.log, input.clientRequestId, input.region),
  }),
);
