import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { openStore, type Store } from '../store/store.js';
import { createFlowEvents, type FlowEvents } from '../events/flow-events.js';
import { checkCredentialsOnce, createProveRegions } from './prove-regions.js';
import type { EmulatorOptions, ProveEmulator } from '../emulator/index.js';
import { ApiKeys, credentialOf, identifyCaller } from '../security/caller.js';
import { redisClients } from './redis-clients.js';
import { createFlowService } from './flow-service.js';
import type { FlowService } from '../flows/service.js';
import { createLiveLimits, type LiveGuard } from '../security/live-limits.js';
import { compileProxyTrust } from '../security/address.js';
import { liveRefusalWarning, type LiveTransport } from '../observability/live-refusal-log.js';
import { originPolicy } from '../security/origin.js';
import { createGatewayYoga } from '../graphql/yoga.js';
import type { Plugin } from 'graphql-yoga';
import { contextFor } from '../graphql/context.js';
import { attachGraphqlWs } from '../transport/ws.js';
import { createOperationRunner } from '../graphql/operation.js';
import { createHttpJsonTransport } from '../transport/http-json.js';
import { createMetrics } from '../observability/metrics.js';
import { refusedKeyWarning } from '../observability/refused-key-log.js';
import { takeRequestId } from '../observability/request-id.js';
import { RequestLog } from '../observability/request-log.js';
import { createStatusPage } from '../ui/status-page.js';
import { registerCircuitMetric, type CircuitBreakerOptions } from '../resilience/circuit-breaker.js';
import { guardEvents, StoreOutageLog } from '../resilience/store-guard.js';
import { createReadiness, type Readiness } from '../resilience/readiness.js';
import { HttpDrain } from '../resilience/http-drain.js';
import { createRoutes, EMULATOR_PREFIX } from './routes.js';
import { createShutdown, type ShutdownReport } from './shutdown.js';
import { httpServerOptions } from './http-timeouts.js';
import { liveStreams } from '../transport/sse-live.js';
import { useUnannouncedStreamLimits } from '../security/live-stream-plugin.js';
import { createWebhooks } from '../webhooks/index.js';

/**
 * createGateway(config): yoga on node:http, graphql-ws on the same port, the store, pub/sub and the
 * Prove client wired together; with no Prove credentials, the emulator mounted at /prove-emulator.
 */

export { EMULATOR_PREFIX } from './routes.js';
export type { ShutdownReport } from './shutdown.js';
/** How long close() lets requests in flight finish before cutting their connections (main.ts passes SHUTDOWN_TIMEOUT). */
const CLOSE_GRACE_MS = 5_000;

export interface GatewayOptions {
  logger?: Logger;
  /** Options for the embedded emulator (shortened windows in tests). */
  emulator?: EmulatorOptions;
  /** Adapter tuning (short timeouts in tests). */
  prove?: { timeoutMs?: number; statusDeadlineMs?: number };
  now?: () => number;
  /** Bring your own store and pub/sub (benchmarks drive stored changes in-process); built from config otherwise. */
  store?: Store;
  events?: FlowEvents;
  /** More envelop plugins, after the gateway's own (tests observe the pipeline with them). */
  plugins?: Plugin[];
  /** graphql-ws keepalive ping interval (default 12 s). */
  wsKeepAliveMs?: number;
  /** Plain JSON POSTs answered without yoga's HTTP layer (default on; false sends them to yoga; src/transport/http-json.ts). */
  httpJson?: false | { onServed?: () => void };
  /** The circuit breaker around Prove (defaults: 5 consecutive failures, a probe after 5 s). */
  breaker?: Omit<CircuitBreakerOptions, 'logger'>;
  /** /ready: how long a credential check is remembered (default 10 s). */
  readyCredentialsTtlMs?: number;
  /** Ask Prove for a token right after start and warn once if it refuses our credentials (main.ts; off in tests). */
  checkCredentialsAtStart?: boolean;
}

export interface Gateway {
  /** Origin, e.g. http://127.0.0.1:4000 */
  url: string;
  graphqlUrl: string;
  emulatorUrl: string | undefined;
  /** What this instance holds open for live status: flow listeners and WebSocket connections (leak checks). */
  liveStats(): {
    flowListeners: number;
    webSockets: number;
    /** What the live limits count (src/security/live-limits.ts): connections, subscriptions and the per-address counters kept. */
    held: { connections: number; subscriptions: number; addresses: number };
  };
  /**
   * Graceful shutdown: /ready answers 503 "draining" at once and new work is refused (HTTP 503,
   * new sockets 503); requests and graphql-ws queries/mutations in flight finish (up to
   * `timeoutMs`, then they are cut); WebSockets close with 1001 so clients reconnect elsewhere;
   * then the port, the store and Redis are closed.
   */
  shutdown(timeoutMs?: number): Promise<ShutdownReport>;
  /** shutdown() with a 5 s drain. */
  close(): Promise<void>;
}

export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel, { format: config.logFormat, production: config.production });
  // OpenTelemetry only when an OTLP endpoint is configured: otherwise the SDK is never loaded.
  const tracing = config.tracing
    ? await (await import('../observability/tracing.js')).startTracing(config.tracing, { graphqlPath: '/graphql', logger })
    : undefined;
  const traceSteps = <S extends FlowService>(service: S): S => (tracing ? tracing.flows(service) : service);
  const store = options.store ?? (await openStore(config.redisUrl, undefined, { cluster: config.redisCluster }));
  const drain = new HttpDrain();
  const redis = config.redisUrl ? await redisClients({ url: config.redisUrl, cluster: config.redisCluster }, logger) : undefined;
  // Store failures become StoreUnavailableError (UpstreamError, retryable), logged once per outage.
  const storeLog = new StoreOutageLog(logger);
  const events = guardEvents(
    options.events ??
    createFlowEvents(
      redis && {
        publishClient: redis.pub,
        subscribeClient: redis.sub,
        onError: (error, command) => logger.warn({ err: { message: error.message }, command }, 'Redis pub/sub command failed'),
      },
    ),
    storeLog,
  );
  const apiKeys = new ApiKeys(config.apiKeys);
  const addressOf = compileProxyTrust(config.proxyTrust);
  const emulator: ProveEmulator | undefined =
    config.proveRegions.mode === 'emulator'
      ? // Each region's door takes the credentials the gateway sends it.
        // Loaded only then: a gateway talking to Prove never needs its ~0.4 MiB of code.
        (await import('../emulator/index.js')).createProveEmulator({
          regions: { us: config.proveRegions.targets.us, eu: config.proveRegions.targets.eu },
          ...options.emulator,
        })
      : undefined;

  // The Prove client needs the gateway's own port when it talks to the embedded emulator, so the
  // service is built after listen(); requests that arrive in between wait for it.
  let flowService: FlowService | undefined;
  let resolveFlows!: (service: FlowService) => void;
  const flowsReady = new Promise<FlowService>((resolve) => (resolveFlows = (service) => resolve((flowService = service))));

  // Per gateway: several gateways in one process (tests) must not share counters.
  const metrics = createMetrics();
  // One warning (at most a line a second) for API keys refused over HTTP and graphql-ws.
  const onRefusedKey = refusedKeyWarning(logger);
  // Connections and subscriptions held open, per socket, client address and process (LIMIT_*), graphql-ws and SSE alike.
  const liveLimits = createLiveLimits(config.liveLimits);
  const liveWarning = liveRefusalWarning(logger);
  const liveGuard = (transport: LiveTransport): LiveGuard => ({
    limits: liveLimits,
    addressOf,
    onRefused: (refusal, address) => {
      metrics.observeLiveRefusal(refusal, transport);
      liveWarning(refusal, transport, address);
    },
  });

  const yoga = createGatewayYoga({
    flows: () => flowService ?? flowsReady,
    apiKeys,
    production: config.production,
    addressOf,
    logger,
    corsOrigins: config.corsOrigins,
    trustedDocuments: config.trustedDocuments,
    // Streams over HTTP that no Accept announced are counted when they subscribe.
    plugins: [useUnannouncedStreamLimits(liveGuard('sse')), ...metrics.plugins, ...(tracing?.plugins ?? []), ...(options.plugins ?? [])],
    onRefusedKey,
  });
  // Every operation of every transport runs through yoga's envelope (src/graphql/operation.ts).
  const runner = createOperationRunner(yoga, { documents: config.trustedDocuments.documents });
  const httpJson = options.httpJson === false ? undefined : createHttpJsonTransport({ yoga, runner, ...options.httpJson });
  const statusPage = config.statusPage
    ? createStatusPage({ graphqlPath: yoga.graphqlEndpoint, emulatorPath: emulator ? EMULATOR_PREFIX : undefined, logger })
    : undefined;

  // Set once the Prove client exists (after listen); until then /ready says credentials are unknown.
  let readiness: Readiness | undefined;
  const routes = createRoutes({
    drain, emulator, readiness: () => readiness, statusPage, yoga, httpJson,
    liveStreams: liveStreams(yoga.graphqlEndpoint, liveGuard('sse')), graphiql: !config.production,
  });
  // Each request's log lines carry its request id (src/observability/request-id.ts): its log is
  // handed down to what handles it (src/observability/request-log.ts).
  // Keep-alive, headers and request timeouts (HTTP_*_TIMEOUT): src/app/http-timeouts.ts.
  const server = createServer({ ...httpServerOptions(config.http), ServerResponse: drain.Response }, (req, res) => {
    const requestId = takeRequestId(req, res);
    const log = new RequestLog(logger, requestId);
    if (tracing) tracing.http(req, res, requestId, () => routes(req, res, log));
    else routes(req, res, log);
  });

  // Requests wait for nothing once we listen: the store's first connection is up (or has failed,
  // and /ready says so; the instance still starts and keeps trying).
  await store.ready().catch((error: Error) => logger.warn({ err: { message: error.message } }, 'store not reachable at start'));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    // A port in use or a host that is not ours: nothing was served, so release what was opened and
    // let the caller say so (main.ts: one line naming PORT or HOST).
    await Promise.allSettled([store.close(), emulator?.close(), tracing?.shutdown()]);
    redis?.pub.disconnect();
    redis?.sub.disconnect();
    throw error;
  }
  // graphql-ws is bound once the port is ours: the `ws` server would otherwise report a failed
  // listen as its own error. Nothing can connect between listen's callback and this line.
  const origins = originPolicy({ corsOrigins: config.corsOrigins, production: config.production });
  const ws = attachGraphqlWs(server, yoga.graphqlEndpoint, runner, {
    log: logger,
    live: liveGuard('graphql-ws'),
    // The same reading of the credential as every operation's context (src/graphql/context.ts): a wrong key in
    // connectionParams or in the upgrade's Authorization header is refused at connect (4403).
    admit: (params, req) => {
      const credential = credentialOf(params, req);
      if (identifyCaller(credential, '', apiKeys)) return true;
      onRefusedKey('graphql-ws', credential);
      return false;
    },
    verifyOrigin: (origin, req) => origins.allowed(origin, req.headers.host),
    ...(options.wsKeepAliveMs !== undefined && { keepAliveMs: options.wsKeepAliveMs }),
  });

  metrics.instrumentWebSocketServer(ws.wss);
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${port}`;

  // One Prove stack per region (src/app/prove-regions.ts); the embedded emulator serves each region under its own path.
  const { proveRegions } = config;
  const regions = createProveRegions({
    targets: Object.fromEntries(
      Object.entries(proveRegions.targets).map(([region, target]) => [
        region,
        proveRegions.mode === 'emulator' ? { ...target, serverURL: `${url}${EMULATOR_PREFIX}/${region}` } : target,
      ]),
    ),
    prove: { timeoutMs: config.proveTimeoutMs, ...options.prove },
    breaker: options.breaker,
    rateLimit: config.proveRateLimit,
    metrics,
    logger,
    redis: redis?.pub,
    storeLog,
    ...(tracing && { traceExchange: (serverURL: string, region: string) => tracing.proveExchange(serverURL, region) }),
  });
  readiness = createReadiness({
    store,
    redis,
    regions: regions.map(({ region, adapter, client }) => ({
      region,
      checkCredentials: (signal) => adapter.checkCredentials({ signal }),
      circuit: () => client.circuit(),
    })),
    defaultRegion: proveRegions.defaultRegion,
    draining: () => drain.draining,
    credentialsTtlMs: options.readyCredentialsTtlMs,
  });
  for (const { region, client } of regions) client.onOutcome((outcome) => readiness?.observe(outcome, region));
  registerCircuitMetric(metrics.registry, regions);
  if (options.checkCredentialsAtStart && config.proveRegions.mode === 'remote') {
    for (const { region, adapter } of regions) checkCredentialsOnce(adapter, logger.child({ region }));
  }
  // Signed webhooks on every transition (src/webhooks/): durable in Redis, in process in memory mode.
  const webhooks = config.webhooks
    ? await createWebhooks({ config: config.webhooks, logger, registry: metrics.registry, redis: redis?.pub, now: options.now, tracing: tracing?.webhooks })
    : undefined;
  // With tracing on, each step of the flow service is a span (src/observability/flow-spans.ts).
  resolveFlows(
    traceSteps(
      createFlowService(config, {
        regions, store, storeLog, events, redis, metrics, logger,
        onTransition: webhooks?.onTransition,
        ...(options.now ? { now: options.now } : {}),
      }),
    ),
  );

  const shutdown = createShutdown({ server, drain, ws, emulator, webhooks, store, redis, logger, tracing });
  return {
    url,
    graphqlUrl: `${url}${yoga.graphqlEndpoint}`,
    emulatorUrl: emulator ? `${url}${EMULATOR_PREFIX}` : undefined,
    liveStats: () => ({ flowListeners: events.listenerCount(), webSockets: ws.wss.clients.size, held: liveLimits.open() }),
    shutdown: (timeoutMs = CLOSE_GRACE_MS) => shutdown(timeoutMs),
    close: async () => void (await shutdown(CLOSE_GRACE_MS)),
  };
}
