import type { FlowService } from '../flows/service.js';
import type { GraphQLContext } from '../schema/index.js';
import { credentialOf, identifyCaller, type ApiKeys } from '../security/caller.js';
import type { RequestIdentity } from '../security/address.js';
import type { RefusedKeyWarning } from '../observability/refused-key-log.js';
import type { Logger } from 'pino';
import { RequestLog } from '../observability/request-log.js';
import type { Log } from '../lib/log.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../observability/request-id.js';

/** What each transport hands the context factory: the node request, and on WebSocket the connection params. */
export interface ServerContext {
  /** The node request (HTTP), or what graphql-ws kept of the upgrade request. */
  req: RequestIdentity;
  connectionParams?: Readonly<Record<string, unknown>> | undefined;
  /** Aborted when the client goes away; HTTP uses the request's own signal (graphql-ws ends streams by return()). */
  signal?: AbortSignal;
  /** HTTP: the request's log (its lines carry the request's id). graphql-ws operations get one of their own here. */
  log?: Log | undefined;
}

export interface ContextDeps {
  /** The flow service, or the promise of it while the gateway is starting. */
  flows: () => FlowService | Promise<FlowService>;
  apiKeys: ApiKeys;
  /** The client's address for a request (src/security/address.ts). */
  addressOf: (req: RequestIdentity) => string;
  /** Told of each refused API key (src/observability/refused-key-log.ts). */
  onRefusedKey?: RefusedKeyWarning | undefined;
  /** The process logger, for the logs of graphql-ws operations. */
  logger: Logger;
}

const authorizationOf = (context: ServerContext): string | undefined => credentialOf(context.connectionParams, context.req);

/** A graphql-ws operation's request id: `connectionParams["x-request-id"]` when well-formed, otherwise a new one. */
const operationRequestId = (params: ServerContext['connectionParams']): string => {
  const value = params?.[REQUEST_ID_HEADER];
  return requestIdFrom(typeof value === 'string' ? value : undefined);
};

/**
 * The GraphQL context of one request: the caller (public, or trusted by API key), the flow
 * service and the request's log, which resolvers hand down to the flow service; undefined for a
 * key that matches none (answered 401). yoga builds it for the operations of every transport
 * (src/graphql/operation.ts), so all see the same caller. An HTTP request brings its log; a
 * graphql-ws operation (no HTTP request of its own) gets one per operation, with the client's id
 * from `connectionParams["x-request-id"]` when well-formed.
 */
export function contextFor(deps: ContextDeps) {
  // Built synchronously once the flow service exists, so the envelope's context step takes no promise.
  return (initial: ServerContext & { request?: Request }): GraphQLContext | undefined | Promise<GraphQLContext | undefined> => {
    const log = initial.log ?? new RequestLog(deps.logger, operationRequestId(initial.connectionParams));
    const authorization = authorizationOf(initial);
    const caller = identifyCaller(authorization, deps.addressOf(initial.req), deps.apiKeys);
    if (!caller) {
      deps.onRefusedKey?.(initial.connectionParams ? 'graphql-ws' : 'http', authorization, log);
      return undefined;
    }
    const contextWith = (flows: FlowService): GraphQLContext => ({
      caller,
      flows,
      log,
      signal: initial.signal ?? initial.request?.signal,
      apiKeysConfigured: deps.apiKeys.configured,
    });
    const flows = deps.flows();
    return flows instanceof Promise ? flows.then(contextWith) : contextWith(flows);
  };
}
