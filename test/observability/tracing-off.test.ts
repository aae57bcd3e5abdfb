import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/**
 * Tracing off costs nothing: without an OTLP endpoint (or with OTEL_SDK_DISABLED=true) a gateway
 * serves a whole request without loading any OpenTelemetry package. A fresh process, with a
 * module resolve hook that reports every file resolved (ESM) and the CommonJS cache at the end.
 */

const script = (env: Record<string, string>) => `
  const { register, createRequire } = await import('node:module');
  const { MessageChannel } = await import('node:worker_threads');
  const seen = [];
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => seen.push(url));
  const hooks = 'let port; export function initialize(data) { port = data.port; } ' +
    'export async function resolve(specifier, context, next) { const r = await next(specifier, context); port.postMessage(r.url); return r; }';
  register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
  const { loadConfig } = await import('./src/config.ts');
  const { createGateway } = await import('./src/app/gateway.ts');
  const gateway = await createGateway(loadConfig(${JSON.stringify({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env })}));
  const res = await fetch(gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, body: '{"query":"{ __typename }"}' });
  await res.text();
  await gateway.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  port1.close();
  console.log(JSON.stringify([...seen, ...Object.keys(createRequire(process.cwd() + '/').cache)]));
`;

async function loadedBy(env: Record<string, string>): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(env)], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, REDIS_URL: '' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
}

/**
 * The SDK, the exporters and our tracing modules. Not @opentelemetry/api: that is the no-op API
 * prom-client loads for its exemplars whatever we do.
 */
const telemetry = (files: string[]) =>
  files.filter((f) => /@opentelemetry[\\/](?!api[\\/])|@envelop[\\/]opentelemetry|src[\\/]observability[\\/](tracing|graphql-spans|prove-spans)\.ts/.test(f));

describe('tracing off', () => {
  it('no endpoint, or OTEL_SDK_DISABLED=true: no OpenTelemetry package is loaded; with an endpoint it is', async () => {
    const [off, disabled, on] = await Promise.all([
      loadedBy({}),
      loadedBy({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' }),
      // Sampling nothing: no span waits to be sent to this endpoint, where nothing listens.
      loadedBy({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_TRACES_SAMPLER: 'always_off' }),
    ]);
    expect(off.some((f) => f.includes('/src/app/gateway.ts'))).toBe(true);
    expect(telemetry(off)).toEqual([]);
    expect(telemetry(disabled)).toEqual([]);
    // The probe sees the SDK when it is used: the check above is not blind.
    expect(telemetry(on).some((f) => f.includes('sdk-trace-node'))).toBe(true);
  }, 90_000);
});

describe('the OTEL_* variables', () => {
  const base = { NODE_ENV: 'test' };
  it('read the standard way', () => {
    expect(loadConfig(base).tracing).toBeUndefined();
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', serviceName: 'unify-gateway',
      sampler: 'parentbased_always_on', ratio: 1, headers: {}, scheduleDelayMs: 5000,
    });
    expect(loadConfig({
      ...base,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example.com/custom/path',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'gw-eu-1',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D,tenant = t1',
    }).tracing).toMatchObject({
      url: 'https://otlp.example.com/custom/path', protocol: 'http/json', serviceName: 'gw-eu-1',
      sampler: 'parentbased_traceidratio', ratio: 0.25, headers: { 'x-api-key': 'abc=', tenant: 't1' },
    });
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }).tracing).toBeUndefined();
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeUndefined();
  });

  it('refused at start when wrong, each naming its variable', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...env });
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_PROTOCOL: .*gRPC is not supported/)]);
    expect(problems({ OTEL_TRACES_SAMPLER: 'sometimes' })).toEqual([expect.stringMatching(/^OTEL_TRACES_SAMPLER: /)]);
    expect(problems({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' })).toEqual([expect.stringMatching(/^OTEL_TRACES_SAMPLER_ARG: /)]);
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT: /)]);
    expect(problems({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_HEADERS: /)]);
    expect(problems({ OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual([expect.stringMatching(/^OTEL_TRACES_EXPORTER: /)]);
  });
});
