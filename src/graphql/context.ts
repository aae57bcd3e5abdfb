import type { FlowService } from '../flows/service.js';
import type { GraphQLContext } from '../schema/index.js';
import { credentialOf, identifyCaller, type ApiKeys } from '../security/caller.js';
import type { RequestIdentity } from '../security/address.js';
import type { RefusedKeyWarning } from '../observability/refused-key-log.js';

/** What each transport hands the context factory: the node request, and on WebSocket the connection params. */
export interface ServerContext {
  /** The node request (HTTP), or what graphql-ws kept of the upgrade request. */
  req: RequestIdentity;
  connectionParams?: Readonly<Record<string, unknown>> | undefined;
  /** Aborted when the client goes away; HTTP uses the request's own signal (graphql-ws ends streams by return()). */
  signal?: AbortSignal;
}

export interface ContextDeps {
  /** The flow service, or the promise of it while the gateway is starting. */
  flows: () => FlowService | Promise<FlowService>;
  apiKeys: ApiKeys;
  /** The client's address for a request (src/security/address.ts). */
  addressOf: (req: RequestIdentity) => string;
  /** Told of each refused API key (src/observability/refused-key-log.ts). */
  onRefusedKey?: RefusedKeyWarning | undefined;
}

const authorizationOf = (context: ServerContext): string | undefined => credentialOf(context.connectionParams, context.req);

/**
 * The GraphQL context of one request: the caller (public, or trusted by API key) and the flow
 * service; undefined for a key that matches none (answered 401). yoga builds it for the operations of
 * every transport (src/graphql/operation.ts), so all see the same caller.
 */
export function contextFor(deps: ContextDeps) {
  // Built synchronously once the flow service exists, so the envelope's context step takes no promise.
  return (initial: ServerContext & { request?: Request }): GraphQLContext | undefined | Promise<GraphQLContext | undefined> => {
    const authorization = authorizationOf(initial);
    const caller = identifyCaller(authorization, deps.addressOf(initial.req), deps.apiKeys);
    if (!caller) {
      deps.onRefusedKey?.(initial.connectionParams ? 'graphql-ws' : 'http', authorization);
      return undefined;
    }
    const contextWith = (flows: FlowService): GraphQLContext => ({
      caller,
      flows,
      signal: initial.signal ?? initial.request?.signal,
      apiKeysConfigured: deps.apiKeys.configured,
    });
    const flows = deps.flows();
    return flows instanceof Promise ? flows.then(contextWith) : contextWith(flows);
  };
}
