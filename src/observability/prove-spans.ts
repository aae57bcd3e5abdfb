import { context, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PROVE_SERVERS, ProveError, type ExchangeTracer } from '../prove/index.js';

/**
 * Each HTTP exchange with Prove as a CLIENT span: `POST /v3/unify-status` with the endpoint, the
 * attempt, the region, the status, and the error kind when it failed. The trace context goes to
 * Prove in `traceparent`/`tracestate`. Never the body, the token or the URL's query.
 */
export function proveExchangeTracer(tracer: Tracer, propagator: W3CTraceContextPropagator, serverURL: string, gatewayRegion?: string): ExchangeTracer {
  const server = new URL(serverURL);
  // The region the gateway routes to; without one, read from Prove's own host names.
  const region = gatewayRegion ?? regionOf(serverURL);
  const port = Number(server.port || (server.protocol === 'https:' ? 443 : 80));
  return ({ endpoint, attempt }, send) =>
    tracer.startActiveSpan(
      `POST ${endpoint}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'POST',
          'server.address': server.hostname,
          'server.port': port,
          'url.template': endpoint,
          'prove.endpoint': endpoint,
          'prove.attempt': attempt,
          'prove.region': region,
          // OpenTelemetry's name for the retries of one request: 0 on the first try.
          'http.request.resend_count': attempt - 1,
        },
      },
      async (span) => {
        const headers: Record<string, string> = {};
        propagator.inject(context.active(), headers, { set: (carrier, key, value) => (carrier[key] = value) });
        try {
          const response = await send(headers);
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 400) {
            span.setAttribute('error.type', String(response.status));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          return response;
        } catch (error) {
          // The kind only: a message could quote what Prove said.
          span.setAttribute('error.type', error instanceof ProveError ? error.kind : error instanceof Error ? error.name : 'error');
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      },
    );
}

/** us or eu for Prove's own hosts (from the SDK's server list), `custom` for any other base URL (the emulator, a proxy). */
export function regionOf(serverURL: string): string {
  const normal = serverURL.replace(/\/+$/, '');
  const name = Object.entries(PROVE_SERVERS).find(([, url]) => url.replace(/\/+$/, '') === normal)?.[0];
  return name?.split('-')[1] ?? 'custom';
}
