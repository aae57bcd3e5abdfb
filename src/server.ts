import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createLogger } from './logger.js';
import { createStore, type Store } from './store/keyv.js';
import { FlowRepository } from './store/flow-repository.js';
import { processLocks, redisLocks } from './store/locks.js';
import { createFlowEvents, type FlowEvents } from './events/flow-events.js';
import { FlowService } from './flows/service.js';
import { createProveClient, type ProveClient } from './prove/index.js';
import { createProveEmulator, type EmulatorOptions, type ProveEmulator } from './emulator/index.js';
import { ApiKeys, identifyCaller } from './security/caller.js';
import { memoryBudget, redisBudget, withBudget } from './security/upstream-budget.js';
import { createStartLimits } from './security/start-limits.js';
import { readBodyWithin } from './security/body-limit.js';
import { originPolicy } from './security/origin.js';
import { createGatewayYoga } from './yoga.js';
import { attachGraphqlWs } from './ws.js';
import { createMetrics } from './observability/metrics.js';
import { createStatusPage } from './ui/status-page.js';

/**
 * createGateway(config): yoga on node:http, graphql-ws on the same port, the store, pub/sub and the
 * Prove client wired together; with no Prove credentials, the emulator mounted at /prove-emulator.
 */

export const EMULATOR_PREFIX = '/prove-emulator';
/** How long close() lets ordinary requests in flight finish before cutting their connections. */
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
  /** graphql-ws keepalive ping interval (default 12 s). */
  wsKeepAliveMs?: number;
}

export interface Gateway {
  /** Origin, e.g. http://127.0.0.1:4000 */
  url: string;
  graphqlUrl: string;
  emulatorUrl: string | undefined;
  /** What this instance holds open for live status: flow listeners and WebSocket connections (leak checks). */
  liveStats(): { flowListeners: number; webSockets: number };
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = options.store ?? createStore(config.redisUrl);
  const redis = config.redisUrl
    ? { pub: new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 }), sub: new Redis(config.redisUrl) }
    : undefined;
  const events =
    options.events ??
    createFlowEvents(
      redis && {
        publishClient: redis.pub,
        subscribeClient: redis.sub,
        onError: (error, command) => logger.warn({ err: { message: error.message }, command }, 'Redis pub/sub command failed'),
      },
    );
  const apiKeys = new ApiKeys(config.apiKeys);
  const emulator: ProveEmulator | undefined =
    config.prove.mode === 'emulator' ? createProveEmulator(options.emulator) : undefined;

  // The Prove client needs the gateway's own port when it talks to the embedded emulator, so the
  // service is built after listen(); requests that arrive in between wait for it.
  let resolveFlows!: (service: FlowService) => void;
  const flowsReady = new Promise<FlowService>((resolve) => (resolveFlows = resolve));

  // Per gateway: several gateways in one process (tests) must not share counters.
  const metrics = createMetrics();
  const yoga = createGatewayYoga({
    flows: () => flowsReady,
    apiKeys,
    production: config.production,
    trustProxyHops: config.trustProxyHops,
    logger,
    corsOrigins: config.corsOrigins,
    plugins: metrics.plugins,
  });
  const statusPage = config.statusPage
    ? createStatusPage({ graphqlPath: yoga.graphqlEndpoint, emulatorPath: emulator ? EMULATOR_PREFIX : undefined, logger })
    : undefined;

  // Responses in flight, so close() can end the ones that never end by themselves (SSE streams).
  const inFlight = new Map<ServerResponse, IncomingMessage>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight.set(res, req);
    res.once('close', () => inFlight.delete(res));
    const url = req.url ?? '/';
    if (emulator && (url === EMULATOR_PREFIX || url.startsWith(`${EMULATOR_PREFIX}/`))) {
      req.url = url.slice(EMULATOR_PREFIX.length) || '/';
      return emulator.handle(req, res);
    }
    if (url === '/health') return json(res, 200, { status: 'ok' });
    if (statusPage?.handle(req, res)) return;
    if (url === '/ready') {
      return void store
        .ping()
        .then(() => json(res, 200, { status: 'ready' }))
        .catch((error: Error) => json(res, 503, { status: 'not ready', store: error.message }));
    }
    // Bodies are capped before yoga reads them (413, not a 500 or an unbounded buffer).
    void readBodyWithin(req, res).then((ok) => {
      if (ok) void yoga.handle(req, res, { req });
    });
  });
  const origins = originPolicy({ corsOrigins: config.corsOrigins, production: config.production });
  const ws = attachGraphqlWs(server, yoga, {
    admit: (params) => {
      const authorization = params?.authorization ?? params?.Authorization;
      return identifyCaller(typeof authorization === 'string' ? authorization : undefined, '', apiKeys) !== undefined;
    },
    verifyOrigin: (origin, req) => origins.allowed(origin, req.headers.host),
    ...(options.wsKeepAliveMs !== undefined && { keepAliveMs: options.wsKeepAliveMs }),
  });

  metrics.instrumentWebSocketServer(ws.wss);

  // Requests wait for nothing once we listen: the store's first connection is up (or has failed,
  // and /ready says so; the instance still starts and keeps trying).
  await store.ready().catch((error: Error) => logger.warn({ err: { message: error.message } }, 'store not reachable at start'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${port}`;

  const adapter: ProveClient = createProveClient({
    serverURL: config.prove.mode === 'emulator' ? `${url}${EMULATOR_PREFIX}` : config.prove.serverURL,
    clientId: config.prove.clientId,
    clientSecret: config.prove.clientSecret,
    ...options.prove,
    logger,
  });
  const prove = withBudget(
    metrics.instrumentProve(adapter),
    redis ? redisBudget(redis.pub, config.proveRateLimit) : memoryBudget(config.proveRateLimit),
  );
  resolveFlows(
    new FlowService({
      prove,
      repo: metrics.instrumentRepository(new FlowRepository(store.keyv, options.now)),
      events,
      locks: redis ? redisLocks(redis.pub) : processLocks,
      phonePolicy: {
        sandbox: config.prove.mode === 'emulator' || config.prove.sandbox,
        allowedCountries: config.allowedCountries,
      },
      finalTargetOrigins: config.finalTargetOrigins,
      flowTtlMs: config.flowTtlMs,
      logger,
      startGuard: createStartLimits({
        perNumber: config.startLimitPerNumber,
        perAddress: config.startLimitPerAddress,
        redis: redis?.pub,
        logger,
      }),
      ...(options.now ? { now: options.now } : {}),
    }),
  );

  let closed: Promise<void> | undefined;
  return {
    url,
    graphqlUrl: `${url}${yoga.graphqlEndpoint}`,
    emulatorUrl: emulator ? `${url}${EMULATOR_PREFIX}` : undefined,
    liveStats: () => ({ flowListeners: events.listenerCount(), webSockets: ws.wss.clients.size }),
    close: () =>
      (closed ??= (async () => {
        await ws.close();
        await new Promise<void>((resolve) => {
          // A server-sent event stream is cut at once, as a WebSocket is closed with 1001 above:
          // its client sees the stream break (not complete) and reconnects to another instance.
          // Other requests in flight get a moment to finish.
          const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
          server.close(() => {
            clearTimeout(grace);
            resolve();
          });
          server.closeIdleConnections();
          for (const [res, req] of inFlight) {
            if (res.headersSent && req.headers.accept?.includes('text/event-stream')) res.destroy();
          }
        });
        await emulator?.close();
        await store.close();
        redis?.pub.disconnect();
        redis?.sub.disconnect();
      })()),
  };
}
