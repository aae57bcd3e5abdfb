import { context, trace, isSpanContextValid, SpanKind, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler,
  type Sampler, type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { ExchangeTracer } from '../prove/index.js';
import type { FlowService } from '../flows/service.js';
import type { DeliveryTracing } from '../webhooks/delivery.js';
import { setTraceIdSource } from './log-context.js';
import type { TracingConfig } from './tracing-config.js';
import { graphqlTracingPlugins } from './graphql-spans.js';
import { httpRequestTracer, type HttpTracer } from './http-spans.js';
import { proveExchangeTracer } from './prove-spans.js';
import { traceFlowSteps } from './flow-spans.js';
import { inSpan } from './in-span.js';
import { traceRedisCommands } from './redis-spans.js';
import { webhookDeliveryTracing } from './webhook-spans.js';
import { ScrubbingExporter } from './scrub-exporter.js';

/**
 * OpenTelemetry tracing for one gateway: the official Node SDK (NodeTracerProvider, a batch span
 * processor, the OTLP exporter over http/protobuf or http/json) and the hooks that make spans.
 * This module is imported only when tracing is on (src/observability/tracing-config.ts), so with
 * no endpoint set none of the SDK is even loaded.
 *
 * The provider is this gateway's own, handed to each hook, not the process-wide global: tests
 * run several gateways in one process, each with its own receiver. The async context manager
 * is process-wide (it is what carries the active span across awaits) and is set once.
 */
export interface Tracing {
  /** The operation's span (src/observability/graphql-spans.ts), for yoga's plugin list. */
  plugins: Plugin[];
  /** A SERVER span around each request to the GraphQL endpoint. */
  http: HttpTracer;
  /** CLIENT spans for the Prove adapter's exchanges, with the trace context propagated. */
  proveExchange(serverURL: string, region?: string): ExchangeTracer;
  /** The flow service with a span per step. */
  flows<S extends FlowService>(service: S): S;
  /** A CLIENT span per webhook delivery attempt, in the trace of the transition that caused it. */
  webhooks: DeliveryTracing;
  /**
   * A span around other outgoing work, as the child of whatever is active. Errors mark the span
   * (by class name only) and are rethrown.
   */
  span<T>(name: string, attributes: Record<string, string | number | boolean>, run: (span: Span) => Promise<T>, kind?: SpanKind): Promise<T>;
  /** Sends what is buffered and stops (at shutdown). */
  shutdown(): Promise<void>;
}

let contextManagerSet = false;

export async function startTracing(config: TracingConfig, options: { graphqlPath: string; logger: Logger }): Promise<Tracing> {
  if (!contextManagerSet) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    contextManagerSet = true;
  }
  const exporter = new ScrubbingExporter(await otlpExporter(config));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.scheduleDelayMs })],
  });
  const tracer: Tracer = provider.getTracer('unify-gateway');
  const propagator = new W3CTraceContextPropagator();
  const stopRedis = traceRedisCommands(tracer);
  setTraceIdSource(() => {
    const span = trace.getSpan(context.active());
    const ids = span?.spanContext();
    return ids && isSpanContextValid(ids) ? { traceId: ids.traceId, spanId: ids.spanId } : undefined;
  });
  options.logger.info({ url: redactedUrl(config.url), protocol: config.protocol, serviceName: config.serviceName, sampler: config.sampler, ratio: config.ratio }, 'tracing on');
  let stopped: Promise<void> | undefined;
  return {
    plugins: graphqlTracingPlugins(provider, propagator),
    http: httpRequestTracer(tracer, propagator, options.graphqlPath),
    proveExchange: (serverURL, region) => proveExchangeTracer(tracer, propagator, serverURL, region),
    flows: (service) => traceFlowSteps(service, tracer),
    webhooks: webhookDeliveryTracing(tracer, propagator),
    span: (name, attributes, run, kind) => inSpan(tracer, name, attributes, run, kind),
    shutdown: () =>
      (stopped ??= (async () => {
        stopRedis();
        setTraceIdSource(undefined);
        await provider.shutdown().catch((error: Error) => options.logger.warn({ err: { message: error.message } }, 'tracing: spans not sent at shutdown'));
      })()),
  };
}

async function otlpExporter(config: TracingConfig): Promise<SpanExporter> {
  const settings = { url: config.url, headers: config.headers };
  if (config.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(settings);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(settings);
}

function samplerOf({ sampler, ratio }: TracingConfig): Sampler {
  switch (sampler) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default: return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The collector's URL for the start-up line, without credentials someone may have put in it. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  return parsed.toString();
}
