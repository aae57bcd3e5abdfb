import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { Attributes } from '@opentelemetry/api';

/** Attributes that may quote what a client sent (a document's literals), dropped from every span. */
const DROPPED = new Set(['graphql.execute.document']);

/**
 * The last check before spans leave the process. @envelop/opentelemetry records an operation's
 * errors as an exception whose message is the errors as JSON, and graphql-js quotes a refused
 * variable's value there ("Variable "$input" got invalid value "+1555…"): the message is replaced
 * by the errors' codes. The operation's document is dropped for the same reason. Our own spans put
 * no personal data in, and a test scans every exported byte for it.
 */
export class ScrubbingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans.map(scrubbed), done);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function scrubbed(span: ReadableSpan): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status.message ? { code: span.status.code } : span.status,
    attributes: withoutDropped(span.attributes),
    links: span.links,
    events: span.events.map(eventScrubbed),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

function withoutDropped(attributes: Attributes): Attributes {
  if (!Object.keys(attributes).some((key) => DROPPED.has(key))) return attributes;
  return Object.fromEntries(Object.entries(attributes).filter(([key]) => !DROPPED.has(key)));
}

function eventScrubbed(event: TimedEvent): TimedEvent {
  const message = event.attributes?.['exception.message'];
  if (typeof message !== 'string') return event;
  return { ...event, attributes: { ...event.attributes, 'exception.message': codesOf(message) } };
}

/** `["FLOW_NOT_FOUND","BAD_USER_INPUT"]` from the errors' JSON; `error` for anything else. */
function codesOf(message: string): string {
  try {
    const errors = JSON.parse(message) as unknown;
    if (!Array.isArray(errors)) return 'error';
    return errors.map((e) => {
      const code = (e as { extensions?: { code?: unknown } } | null)?.extensions?.code;
      return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'GRAPHQL_ERROR';
    }).join(',');
  } catch {
    return 'error';
  }
}
