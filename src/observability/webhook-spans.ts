import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { AttemptTrace, DeliveryTracing } from '../webhooks/delivery.js';

const setter = { set: (carrier: Record<string, string>, key: string, value: string) => (carrier[key] = value) };
const getter = {
  get: (carrier: Record<string, string | undefined>, key: string) => carrier[key],
  keys: (carrier: Record<string, string | undefined>) => Object.keys(carrier),
};

/**
 * Each webhook delivery attempt as a CLIENT span `webhook POST`, the child of the span that was
 * active when the transition was stored (the flow step, inside the operation). The queue is an
 * asynchronous hop, possibly to another instance, so the context travels as a stored
 * `traceparent`/`tracestate` in the queued delivery rather than in memory.
 *
 * Attributes: the event type, the attempt, the endpoint's origin (never its path or query, which
 * may hold a token), the answer's status and the outcome. Never the payload, the secret, the
 * event id or anything of the flow.
 */
export function webhookDeliveryTracing(tracer: Tracer, propagator: W3CTraceContextPropagator): DeliveryTracing {
  return {
    capture() {
      const carrier: Record<string, string> = {};
      propagator.inject(context.active(), carrier, setter);
      return carrier.traceparent ? { traceparent: carrier.traceparent, ...(carrier.tracestate && { tracestate: carrier.tracestate }) } : {};
    },
    attempt(delivery, attempt, run) {
      // No stored context (a transition made outside any trace): the attempt starts its own trace.
      const parent = delivery.traceparent
        ? propagator.extract(ROOT_CONTEXT, { traceparent: delivery.traceparent, tracestate: delivery.tracestate }, getter)
        : ROOT_CONTEXT;
      const endpoint = URL.canParse(delivery.url) ? new URL(delivery.url) : undefined;
      const attributes = {
        'http.request.method': 'POST',
        'http.request.resend_count': attempt - 1,
        'webhook.event': delivery.type,
        'webhook.attempt': attempt,
        ...(endpoint && {
          'webhook.endpoint': endpoint.origin,
          'server.address': endpoint.hostname,
          'server.port': Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80)),
        }),
      };
      return tracer.startActiveSpan('webhook POST', { kind: SpanKind.CLIENT, attributes }, parent, async (span) => {
        // The receiver (the operator's backend) can continue the trace from these headers.
        const trace: AttemptTrace = { headers: {} };
        propagator.inject(context.active(), trace.headers, setter);
        try {
          const decision = await run(trace);
          const outcome = decision.settled ? decision.outcome : 'retry';
          span.setAttribute('webhook.outcome', outcome);
          if (trace.status !== undefined) span.setAttribute('http.response.status_code', trace.status);
          if (outcome !== 'delivered') {
            // A status when there was one, else what failed (a timeout or the network).
            span.setAttribute('error.type', trace.status !== undefined ? String(trace.status) : outcome);
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          return decision;
        } finally {
          span.end();
        }
      });
    },
  };
}
