import { context, SpanKind, type TracerProvider } from '@opentelemetry/api';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';
import { setCurrentOtelContext, useOpenTelemetry } from '@envelop/opentelemetry';
import type { Plugin } from 'graphql-yoga';

/**
 * The GraphQL operation as a span, by @envelop/opentelemetry: `query.flow`, `mutation.startUnify`,
 * `subscription.unifyStatus`, with the operation's name and type, and an error status when the
 * result carries errors. Envelop hooks run for every transport that goes through yoga's envelop
 * (HTTP, SSE, graphql-ws), so this is the one place operations are traced.
 *
 * Never recorded: variables (phone numbers, flow ids), results (authTokens), resolver arguments.
 * The document and the errors' messages are removed at export (scrub-exporter.ts): a document
 * may hold literals, and graphql-js quotes a refused variable's value in its message.
 *
 * The parent is whatever is active when the operation executes: over HTTP, the request's span
 * (http-spans.ts, itself the child of the client's traceparent); over graphql-ws, the
 * traceparent/tracestate the client put in connectionParams.
 */
export function graphqlTracingPlugins(provider: TracerProvider, propagator: W3CTraceContextPropagator): Plugin[] {
  return [
    useTraceContextFromConnectionParams(propagator),
    useOpenTelemetry({ variables: false, result: false, resolvers: false, document: false }, provider, SpanKind.INTERNAL, {}, 'unify-gateway-graphql') as Plugin,
  ];
}

const fromParams = { keys: (carrier: Record<string, unknown>) => Object.keys(carrier), get: (carrier: Record<string, unknown>, key: string) => stringOf(carrier[key]) };

function stringOf(value: unknown): string | undefined {
  // A traceparent is 55 characters and a tracestate at most 32 members; longer is not one.
  return typeof value === 'string' && value.length <= 1024 ? value : undefined;
}

/** graphql-ws has no per-message headers: the client's trace context comes in connectionParams. */
function useTraceContextFromConnectionParams(propagator: W3CTraceContextPropagator): Plugin {
  const adopt = (contextValue: unknown) => {
    const params = (contextValue as { connectionParams?: unknown; request?: unknown } | undefined)?.connectionParams;
    if (!params || typeof params !== 'object') return;
    // Without a traceparent in the params, extract leaves the active context as it is.
    setCurrentOtelContext(contextValue, propagator.extract(context.active(), params as Record<string, unknown>, fromParams));
  };
  return {
    onExecute: ({ args }) => adopt(args.contextValue),
    onSubscribe: ({ args }) => adopt(args.contextValue),
  };
}
