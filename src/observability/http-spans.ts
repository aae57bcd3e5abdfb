import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';

export type HttpTracer = (req: IncomingMessage, res: ServerResponse, requestId: string, handle: () => void) => void;

const fromHeaders = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
};

/**
 * A SERVER span for each request to the GraphQL endpoint (`POST /graphql`), the child of the
 * client's W3C `traceparent`/`tracestate` when it sent them. Everything the request does runs
 * inside it, so the operation's span, the flow steps, Redis and Prove are its descendants and
 * every log line of the request carries its trace id. Attributes: method, path (never the query
 * string: a GET carries variables there), status, request id. Other paths (health, metrics,
 * the emulator) are not traced.
 */
export function httpRequestTracer(tracer: Tracer, propagator: W3CTraceContextPropagator, graphqlPath: string): HttpTracer {
  return (req, res, requestId, handle) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== graphqlPath) return handle();
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, fromHeaders);
    const method = req.method ?? 'GET';
    const span = tracer.startSpan(
      `${method} ${graphqlPath}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': graphqlPath,
          'url.scheme': 'http',
          'http.route': graphqlPath,
          'http.request.header.x-request-id': [requestId],
        },
      },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      if (!res.writableFinished) span.setAttribute('error.type', 'connection closed');
      span.end();
    };
    res.once('finish', end).once('close', end);
    context.with(trace.setSpan(parent, span), handle);
  };
}
