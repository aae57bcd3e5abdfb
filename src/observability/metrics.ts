import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { WebSocketServer } from 'ws';
import { ProveError, type ProveClient } from '../prove/types.js';
import type { FlowRepository } from '../store/flow-repository.js';
import { failureReasonsOf, type Flow } from '../flows/flow.js';
import type { LiveRefusal } from '../security/live-limits.js';

/**
 * Prometheus metrics for one gateway: yoga's own GraphQL/HTTP metrics (@graphql-yoga/plugin-prometheus),
 * flows started and their outcomes by possession type, Prove latency per endpoint, open subscriptions
 * and WebSocket connections. Each gateway has its own Registry (tests run several in one process);
 * the Node process metrics (memory, event loop, GC) live once per process and are appended at scrape.
 *
 * Everything is measured at the edges: a ProveClient decorator, a wrapper around the repository's
 * save (every stored flow change), an envelop hook on subscriptions. Domain code is untouched.
 */

export const METRICS_PATH = '/metrics';

const PROVE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20];

let processRegistry: Registry | undefined;
/** Node's default metrics, registered once per process: their collectors (GC observer, event-loop monitor) cannot be stopped. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Yoga plugins: GraphQL phase/HTTP metrics, the subscriptions gauge and the /metrics endpoint. */
  readonly plugins: Plugin[];
  /** The text exposition of this gateway's metrics and the process's. */
  scrape(): Promise<string>;
  readonly contentType: string;
  /**
   * Times every call to Prove, labelled by endpoint and outcome. Wrap the adapter inside the budget so waiting for a slot is not counted as latency.
   * checkCredentials is not timed here: it answers from the cached token almost always (the budget
   * asks it before every call); the real token exchanges are timed by observeTokenExchange.
   */
  instrumentProve(client: ProveClient, region?: string): ProveClient;
  /** One real OAuth token exchange with Prove (`endpoint="/token"`), from createProveClient's onTokenExchange. */
  observeTokenExchange(seconds: number, outcome: string, region?: string): void;
  /** Counts starts and transitions from what the repository stores (each save after the first is one transition). */
  instrumentRepository<R extends FlowRepository>(repo: R): R;
  /** Counts open graphql-ws connections. */
  instrumentWebSocketServer(wss: WebSocketServer): void;
  /** A connection or subscription refused by its limit (src/security/live-limits.ts). */
  observeLiveRefusal(kind: LiveRefusal, transport: 'graphql-ws' | 'sse'): void;
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();

  const flowsStarted = new Counter({
    name: 'unify_flows_started_total',
    help: 'Flows started with Prove, by possession type',
    labelNames: ['possession_type'] as const,
    registers: [registry],
  });
  const flowOutcomes = new Counter({
    name: 'unify_flow_outcomes_total',
    help: 'Flow transitions out of PENDING, by possession type and the state reached (possession_required, verified, bound, failed, expired); reason is Prove\'s first failure code for failed flows',
    labelNames: ['possession_type', 'outcome', 'reason'] as const,
    registers: [registry],
  });
  const proveDuration = new Histogram({
    name: 'unify_prove_request_duration_seconds',
    help: 'Latency of calls to Prove by region (us, eu), endpoint (including the adapter\'s own retries and token refresh; /token: each real OAuth token exchange), and outcome (ok or the error kind)',
    labelNames: ['endpoint', 'outcome', 'region'] as const,
    buckets: PROVE_BUCKETS,
    registers: [registry],
  });
  const subscriptionsStarted = new Counter({
    name: 'unify_subscriptions_started_total',
    help: 'GraphQL subscriptions that began streaming (graphql-ws and SSE)',
    registers: [registry],
  });
  const subscriptionsOpen = new Gauge({
    name: 'unify_subscriptions_open',
    help: 'GraphQL subscriptions currently streaming (graphql-ws and SSE)',
    registers: [registry],
  });
  // Read at scrape from the servers' own sets of open sockets (ws adds a socket before 'connection'
  // and removes it on 'close'): no listener per socket.
  const webSocketServers = new Set<WebSocketServer>();
  new Gauge({
    name: 'unify_websocket_connections_open',
    help: 'graphql-ws connections currently open',
    registers: [registry],
    collect() {
      let open = 0;
      for (const wss of webSocketServers) open += wss.clients.size;
      this.set(open);
    },
  });
  const liveRefusals = new Counter({
    name: 'unify_live_refusals_total',
    help: 'Connections and subscriptions refused by their limit (LIMIT_*), by kind (the limit) and transport (graphql-ws or sse)',
    labelNames: ['kind', 'transport'] as const,
    registers: [registry],
  });
  // Touch the label sets we always expect, so dashboards see zeros instead of missing series.
  for (const type of ['MOBILE', 'DESKTOP', 'NONE']) flowsStarted.inc({ possession_type: type }, 0);
  for (const kind of ['subscriptions_per_socket', 'subscriptions_per_address', 'subscriptions_total', 'connections_per_address', 'connections_total']) {
    liveRefusals.inc({ kind, transport: 'graphql-ws' }, 0);
    if (kind !== 'subscriptions_per_socket') liveRefusals.inc({ kind, transport: 'sse' }, 0);
  }

  const scrape = async () => {
    const [own, proc] = await Promise.all([registry.metrics(), processMetrics().metrics()]);
    return `${own}\n${proc}`;
  };

  type OnSubscribeHooks = Exclude<Awaited<ReturnType<NonNullable<Plugin['onSubscribe']>>>, void>;
  // One hooks object for every subscription: envelop keeps what onSubscribe returns for as long
  // as the subscription is open, so only what must be per subscription (the onEnd once) is made.
  const gaugeHooks: OnSubscribeHooks = {
    onSubscribeResult: ({ result }) => {
      if (!isAsyncIterable(result)) return undefined;
      subscriptionsStarted.inc();
      subscriptionsOpen.inc();
      let ended = false;
      return {
        onEnd: () => {
          if (ended) return;
          ended = true;
          subscriptionsOpen.dec();
        },
      };
    },
  };
  const subscriptionsGauge: Plugin = { onSubscribe: () => gaugeHooks };

  const endpoint: Plugin = {
    onRequest: ({ url, fetchAPI, endResponse }) => {
      if (url.pathname !== METRICS_PATH) return undefined;
      return scrape().then((body) =>
        endResponse(new fetchAPI.Response(body, { headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' } })),
      );
    },
  };

  const plugins: Plugin[] = [
    usePrometheus({
      registry,
      // Served by `endpoint` above, with the process metrics appended.
      endpoint: false,
      // Public callers choose operation names and URLs freely: as labels, each new one would be a new
      // time series (unbounded memory here and in Prometheus). Operation type, phase, method and status stay.
      labels: { operationName: false, url: false, path: false },
      skipIntrospection: true,
      // The schema deprecates nothing, and this counter walks every document with TypeInfo on every
      // request to find deprecated fields: 6% of a flow(id) request's CPU for a series that stays 0.
      metrics: {
        graphql_envelop_deprecated_field: false,
        // A Summary's quantiles are computed per process (a t-digest per request: ~4% of a
        // flow(id) request's CPU) and cannot be added up across instances behind a load balancer;
        // graphql_envelop_request_duration is the same timing as an aggregatable histogram.
        graphql_envelop_request_time_summary: false,
        // The phase histograms are a timer and a labelled observation per phase on every operation,
        // and none says what another series does not: parse and validate time yoga's caches, which
        // answer nearly every operation, in whole milliseconds (0); the context histogram starts
        // and stops its timer before the context is built (always 0); execute and subscribe time
        // the same interval as graphql_envelop_request_duration. Kept: the request and error
        // counters, the request duration, the schema counter and yoga's HTTP duration.
        // graphql_envelop_request counts what graphql_envelop_request_duration_count counts (the same
        // hook, the same labels): a labelled increment per operation for a second name of one number.
        graphql_envelop_request: false,
        graphql_envelop_phase_parse: false,
        graphql_envelop_phase_validate: false,
        graphql_envelop_phase_context: false,
        graphql_envelop_phase_execute: false,
        graphql_envelop_phase_subscribe: false,
        // Errors by phase, but not the subscribe phase: counting a subscription's results keeps
        // per-subscription state (~0.35 KiB) for as long as it is open, and its typed failures are
        // values, not errors; an unexpected error in an event is logged by the masking like any other.
        graphql_envelop_error_result: ['parse', 'validate', 'context', 'execute'],
        // Queries and mutations only: a subscription's set-up is making its stream object (the
        // first read happens in the stream), and timing it keeps the plugin's hooks for every open
        // subscription (~0.55 KiB each); unify_subscriptions_started_total counts them instead.
        graphql_envelop_request_duration: ['execute'],
      },
    }),
    subscriptionsGauge,
    endpoint,
  ];

  const timed = <T>(endpointName: string, region: string | undefined, call: () => Promise<T>): Promise<T> => {
    const end = proveDuration.startTimer({ endpoint: endpointName, ...(region && { region }) });
    return call().then(
      (value) => (end({ outcome: 'ok' }), value),
      (error: unknown) => {
        end({ outcome: error instanceof ProveError ? error.kind : 'error' });
        throw error;
      },
    );
  };

  const observeSave = (flow: Flow) => {
    if (flow.version === 1) {
      flowsStarted.inc({ possession_type: flow.possessionType });
      return;
    }
    if (flow.state === 'PENDING') return;
    const reason = flow.state === 'FAILED' ? String(failureReasonsOf(flow)[0]?.code ?? 'none') : '';
    flowOutcomes.inc({ possession_type: flow.possessionType, outcome: flow.state.toLowerCase(), reason });
  };

  return {
    registry,
    plugins,
    scrape,
    contentType: registry.contentType,
    instrumentProve: (client, region) => ({
      unify: (request, options) => timed('/v3/unify', region, () => client.unify(request, options)),
      unifyStatus: (request, options) => timed('/v3/unify-status', region, () => client.unifyStatus(request, options)),
      unifyBind: (request, options) => timed('/v3/unify-bind', region, () => client.unifyBind(request, options)),
      revokeDevice: (request, options) => timed('/v3/device/revoke', region, () => client.revokeDevice(request, options)),
      checkCredentials: (options) => client.checkCredentials(options),
    }),
    observeTokenExchange: (seconds, outcome, region) =>
      proveDuration.observe({ endpoint: '/token', outcome, ...(region && { region }) }, seconds),
    instrumentRepository: (repo) => {
      const save = repo.save.bind(repo);
      repo.save = async (flow: Flow) => {
        const written = await save(flow);
        if (written) observeSave(flow);
        return written;
      };
      return repo;
    },
    observeLiveRefusal: (kind, transport) => liveRefusals.inc({ kind, transport }),
    instrumentWebSocketServer: (wss) => {
      webSocketServers.add(wss);
    },
  };
}
