import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request a log line belongs to. Set once per HTTP request and per graphql-ws operation, and
 * read by the logger (src/logger.ts) for every line written while that work runs, whichever
 * module writes it: the flow service, the Prove adapter and the store outage log all log with the
 * process logger, and need not be handed a per-request one.
 */
export interface LogScope {
  requestId: string;
}

/** Trace and span ids of the work running now, when tracing is on (src/observability/tracing.ts sets it). */
export type TraceIdSource = () => { traceId: string; spanId: string } | undefined;

const scopes = new AsyncLocalStorage<LogScope>();
let traceIds: TraceIdSource | undefined;

export function runInLogScope<T>(scope: LogScope, work: () => T): T {
  return scopes.run(scope, work);
}

export function currentLogScope(): LogScope | undefined {
  return scopes.getStore();
}

/** Installed by tracing when it starts; removed (undefined) when it stops. */
export function setTraceIdSource(source: TraceIdSource | undefined): void {
  traceIds = source;
}

/** The fields every log line carries: the request id, and the trace and span ids while a span is active. */
export function logContextFields(): Record<string, string> {
  const scope = scopes.getStore();
  const ids = traceIds?.();
  if (!scope && !ids) return {};
  const fields: Record<string, string> = {};
  if (scope) fields.requestId = scope.requestId;
  if (ids) {
    fields.traceId = ids.traceId;
    fields.spanId = ids.spanId;
  }
  return fields;
}
