import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { FlowService } from '../flows/service.js';
import type { Caller } from '../flows/caller.js';
import type { Log } from '../lib/log.js';

export interface GraphQLContext {
  caller: Caller;
  flows: FlowService;
  /** The request's log (its lines carry the request id), handed down to the flow service. */
  log: Log;
  /** Aborted when the client goes away (SSE disconnect; graphql-ws complete or close): ends subscriptions. */
  signal?: AbortSignal | undefined;
  /** False when the gateway has no API keys at all: NotAuthorizedError then says so. */
  apiKeysConfigured?: boolean;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: { trusted: boolean };
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: number } };
}>({
  // Errors before scope-auth, so an authorization failure on a field with typed errors becomes
  // its typed NotAuthorizedError instead of a top-level error.
  plugins: [ErrorsPlugin, ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (context) => ({ trusted: context.caller.kind === 'trusted' }),
    authorizeOnSubscribe: true,
  },
  errors: { directResult: true },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
