import type { Span, Tracer } from '@opentelemetry/api';
import { inSpan } from './in-span.js';
import type { FlowService } from '../flows/service.js';
import type { Flow } from '../flows/flow.js';

/** The flow service's steps that get a span. watch() does not: it lasts as long as a subscription. */
const STEPS = new Set<PropertyKey>(['start', 'refresh', 'bind', 'find', 'get']);

/**
 * The flow service with a span per step (`flow.start`, `flow.refresh`, `flow.bind`, `flow.find`,
 * `flow.get`), so a trace shows which step waited on the store, a lock or Prove. Attributes: the
 * step, the state it left the flow in and the possession type; an error's class name. Never the
 * flow id, the phone number or the tokens.
 *
 * A decorator (a Proxy over the instance) rather than code in FlowService: the domain stays free
 * of telemetry, and with tracing off nothing is wrapped. Steps calling each other inside the
 * service (refresh -> get) are not counted twice: they call the instance, not this wrapper.
 */
export function traceFlowSteps<S extends FlowService>(service: S, tracer: Tracer): S {
  return new Proxy(service, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!STEPS.has(property)) return value.bind(target);
      const step = String(property);
      return (...args: unknown[]) =>
        inSpan(tracer, `flow.${step}`, { 'flow.step': step }, async (span) => {
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          describe(span, result);
          return result;
        });
    },
  });
}

function describe(span: Span, result: unknown): void {
  const flow = (result && typeof result === 'object' && 'flow' in result ? result.flow : result) as Flow | undefined;
  if (!flow || typeof flow !== 'object' || typeof flow.state !== 'string') {
    span.setAttribute('flow.found', false);
    return;
  }
  span.setAttribute('flow.state', flow.state);
  span.setAttribute('flow.possession_type', flow.possessionType);
}
