import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { graphiqlOptions, renderGraphiQL } from '../ui/graphiql.js';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { schema, type GraphQLContext } from '../schema/index.js';
import type { RequestIdentity } from '../security/address.js';
import type { FlowService } from '../flows/service.js';
import { GatewayError } from '../flows/errors.js';
import type { ApiKeys } from '../security/caller.js';
import { contextFor, type ServerContext } from './context.js';
import { useNamedCSRFPrevention } from './csrf.js';
import { hardeningPlugins, withoutSuggestion } from '../security/graphql-hardening.js';
import { corsFor, originPolicy, useOriginPolicy } from '../security/origin.js';
import { useExplainedRefusals } from '../security/http-refusals.js';
import { useRequestBounds } from '../security/request-params.js';
import { refusedKeyWarning, type RefusedKeyWarning } from '../observability/refused-key-log.js';
import { errorLogs, type ErrorLogs } from './error-logs.js';
import { useParseFailureCode } from './parse-failure-code.js';
import { useJitReads } from './jit-reads.js';
import { useGraphqlJsSubscribe } from './js-subscribe.js';
import { useTrustedDocuments, type TrustedDocumentsOptions } from './trusted-documents-plugin.js';

export interface YogaDeps {
  /** The flow service, or the promise of it while the gateway is starting. */
  flows: () => FlowService | Promise<FlowService>;
  apiKeys: ApiKeys;
  production: boolean;
  addressOf: (req: RequestIdentity) => string;
  logger: Logger;
  corsOrigins: string[];
  /** Logs refused API keys (default: refusedKeyWarning(logger)); the gateway shares one with graphql-ws admission. */
  onRefusedKey?: RefusedKeyWarning;
  /** Trusted documents (TRUSTED_DOCUMENTS, TRUSTED_DOCUMENTS_ONLY); absent: none, any text may run. */
  trustedDocuments?: TrustedDocumentsOptions;
  /** More plugins, after the security ones (metrics: src/observability/metrics.ts). */
  plugins?: Plugin[];
  /** How unexpected errors are masked (default createMaskError(logger, { production })). */
  maskError?: GatewayMaskError;
}

/** What a client reads in place of an unexpected error. */
export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';

export type GatewayMaskError = (error: unknown, message: string) => GraphQLError;

/**
 * The gateway's masking of errors (yoga's maskedErrors, the masking plugin every transport's
 * operations pass through): GraphQL errors of our own making pass as they are, the domain's errors
 * (src/flows/errors.ts) reach the client with their message and code; anything else reaches the
 * client as `message` only, and its detail goes to the log. In production, the errors that pass
 * lose graphql-js's "Did you mean ...?" hints (src/security/graphql-hardening.ts): every execution
 * error and every error of a subscription's events passes here, on every transport. The detail
 * of an unexpected error goes to its operation's log (`logs`: src/graphql/error-logs.ts), so the
 * line carries that request's id.
 */
export function createMaskError(logger: Logger, { production = false, logs }: { production?: boolean; logs?: ErrorLogs } = {}): GatewayMaskError {
  const passed = production ? withoutSuggestion : (error: GraphQLError) => error;
  return (error, message) => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) return passed(error);
    // The domain's own failures where a field has no error union (flow(id) while the store is
    // away): expected, already logged where they happen, and worth a code the client can act on.
    if (original instanceof GatewayError) return domainError(original, error instanceof GraphQLError ? error : undefined);
    (logs?.of(error) ?? logger).error({ err: { message: (original as Error | undefined)?.message, name: (original as Error | undefined)?.name } }, 'unexpected error');
    return new GraphQLError(message);
  };
}

function domainError(failure: GatewayError, located: GraphQLError | undefined): GraphQLError {
  const retryable = 'retryable' in failure ? { retryable: failure.retryable } : {};
  return new GraphQLError(failure.message, {
    nodes: located?.nodes,
    path: located?.path,
    extensions: { code: failure.code, ...retryable },
  });
}

export type GatewayYoga = YogaServerInstance<ServerContext, GraphQLContext>;

const authenticated = (context: GraphQLContext | undefined): GraphQLContext => {
  if (!context) throw new GraphQLError('The API key is not valid', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  return context;
};

/** Headers that mark a GET or simple-content-type request as sent by script, not by a form or an <img>. */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'graphql-require-preflight', 'apollo-require-preflight'];

export function createGatewayYoga(deps: YogaDeps): GatewayYoga {
  const origins = originPolicy({ corsOrigins: deps.corsOrigins, production: deps.production });
  const buildContext = contextFor({ ...deps, onRefusedKey: deps.onRefusedKey ?? refusedKeyWarning(deps.logger) });
  const logs = errorLogs();
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Development only: served from the installed bundle (no CDN), subscriptions over graphql-ws, a whole flow preloaded.
    graphiql: deps.production ? false : graphiqlOptions(),
    renderGraphiQL,
    cors: corsFor(origins),
    batching: false,
    // GraphQL over HTTP's persisted documents name the document by `documentId` (trusted-documents.ts).
    extraParamNames: ['documentId'],
    // src/app/routes.ts caps bodies before yoga sees them (readBodyWithin, 64 KiB, the same cap as
    // graphql-ws). Yoga's own 25 MB limit re-wraps every body in a TransformStream pipeline, whose
    // AbortController and DOMException cost ~8% of a flow(id) request's CPU for a check that can
    // never fire.
    maxRequestBodySize: false,
    // Parse and validate hooks (limits, introspection, suggestions) run for graphql-ws too: src/transport/ws.ts
    // goes through getEnveloped. The request-level ones (origin, CSRF) have their WebSocket
    // counterpart in the upgrade's Origin check (src/transport/ws.ts).
    plugins: [
      useOriginPolicy(origins),
      useNamedCSRFPrevention(CSRF_HEADERS),
      useExplainedRefusals(),
      useRequestBounds(),
      ...(deps.trustedDocuments ? useTrustedDocuments(deps.trustedDocuments) : []),
      ...hardeningPlugins(deps),
      useJitReads(),
      useGraphqlJsSubscribe(),
      logs.plugin,
      useParseFailureCode(),
      ...(deps.plugins ?? []),
    ],
    // Unexpected errors reach clients as "Unexpected error." only; their detail goes to the log.
    maskedErrors: {
      maskError: deps.maskError ?? createMaskError(deps.logger, { production: deps.production, logs }),
      errorMessage: UNEXPECTED_ERROR_MESSAGE,
    },
    logging: false,
    context: (initial) => {
      const context = buildContext(initial);
      return context instanceof Promise ? context.then(authenticated) : authenticated(context);
    },
  });
}
