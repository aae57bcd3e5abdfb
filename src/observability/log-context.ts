/**
 * The fields the process logger adds to every line from the work running now: the trace and span
 * ids while a span is active, when tracing is on. The request id is not found this way: a
 * request's lines are written through its own log (src/observability/request-log.ts), handed down.
 */

/** Trace and span ids of the work running now, when tracing is on (src/observability/tracing.ts sets it). */
export type TraceIdSource = () => { traceId: string; spanId: string } | undefined;

let traceIds: TraceIdSource | undefined;

/** Installed by tracing when it starts; removed (undefined) when it stops. */
export function setTraceIdSource(source: TraceIdSource | undefined): void {
  traceIds = source;
}

/** pino's mixin (a new object each time: pino merges the line's own fields into it). */
export function logContextFields(): Record<string, string> {
  const ids = traceIds?.();
  return ids ? { traceId: ids.traceId, spanId: ids.spanId } : {};
}
