/**
 * OpenTelemetry's standard variables -> what tracing needs, or undefined when tracing is off.
 * Pure (no OpenTelemetry import): the SDK is loaded only when this says tracing is on.
 *
 * Tracing is on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT, or the traces-only
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and neither OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none.
 */

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const SAMPLERS = [
  'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface TracingConfig {
  /** Where spans are POSTed: the traces endpoint as given, or the base endpoint + /v1/traces. */
  url: string;
  protocol: OtlpProtocol;
  serviceName: string;
  sampler: SamplerName;
  /** The ratio for the *traceidratio samplers (OTEL_TRACES_SAMPLER_ARG, default 1). */
  ratio: number;
  /** OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, e.g. an API key for a hosted collector. */
  headers: Record<string, string>;
  /** OTEL_BSP_SCHEDULE_DELAY: how long spans wait to be sent in a batch (ms, default 5000). */
  scheduleDelayMs: number;
}

export const DEFAULT_SERVICE_NAME = 'unify-gateway';

/** Header values are percent-encoded (W3C baggage style); a malformed escape is taken as written. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function readTracingConfig(env: NodeJS.ProcessEnv, bad: (name: string, why: string) => void): TracingConfig | undefined {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? '')) return undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter === 'none') return undefined;
  if (exporter && exporter !== 'otlp') bad('OTEL_TRACES_EXPORTER', `must be otlp or none, got "${exporter}"`);

  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!tracesEndpoint && !baseEndpoint) return undefined;
  const url = tracesEndpoint || `${baseEndpoint!.replace(/\/+$/, '')}/v1/traces`;
  if (!/^https?:\/\//.test(url) || !URL.canParse(url)) {
    bad(tracesEndpoint ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT', `must be an http(s) URL, got "${tracesEndpoint || baseEndpoint}"`);
  }

  const protocolName = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[protocolName]?.trim() || 'http/protobuf';
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) {
    bad(protocolName, `must be http/protobuf or http/json (gRPC is not supported), got "${protocol}"`);
  }

  const sampler = env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(sampler)) bad('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')}, got "${sampler}"`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (sampler.endsWith('traceidratio') && !(arg === undefined || arg === '' || (/^\d*\.?\d+$/.test(arg) && ratio >= 0 && ratio <= 1))) {
    bad('OTEL_TRACES_SAMPLER_ARG', `must be a ratio from 0 to 1, got "${arg}"`);
  }

  const headersName = env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  const headers: Record<string, string> = {};
  for (const pair of (env[headersName] ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) {
      bad(headersName, 'must be key=value pairs separated by commas');
      break;
    }
    headers[decoded(pair.slice(0, at).trim())] = decoded(pair.slice(at + 1).trim());
  }

  const delay = env.OTEL_BSP_SCHEDULE_DELAY?.trim();
  if (delay && !/^\d{1,7}$/.test(delay)) bad('OTEL_BSP_SCHEDULE_DELAY', `must be a whole number of milliseconds, got "${delay}"`);

  return {
    url,
    protocol: protocol as OtlpProtocol,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME,
    sampler: sampler as SamplerName,
    ratio: Number.isFinite(ratio) ? ratio : 1,
    headers,
    scheduleDelayMs: delay && /^\d{1,7}$/.test(delay) ? Number(delay) : 5_000,
  };
}
