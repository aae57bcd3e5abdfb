/**
 * The SDK as a transport: server selection, the token exchange and each request's URL, method and
 * headers come from @prove-identity/prove-api; the bodies and the bytes on the wire do not. The
 * SDK's HTTPClient is given our `fetcher`, which sends our own JSON and bearer with
 * HttpExchange (keep-alive node:http) and keeps the raw status and body of the call; the SDK's
 * parse of the answer is ignored (it rejects every 200 in 0.9.6), so it is handed an empty 204,
 * which it reads as "unexpected response" without parsing anything.
 */
import { ProveapiCore } from '@prove-identity/prove-api/core.js';
import { v3V3TokenRequest } from '@prove-identity/prove-api/funcs/v3V3TokenRequest.js';
import { v3V3UnifyBindRequest } from '@prove-identity/prove-api/funcs/v3V3UnifyBindRequest.js';
import { v3V3UnifyRequest } from '@prove-identity/prove-api/funcs/v3V3UnifyRequest.js';
import { v3V3UnifyStatusRequest } from '@prove-identity/prove-api/funcs/v3V3UnifyStatusRequest.js';
import { HTTPClient } from '@prove-identity/prove-api/lib/http.js';
import type { RequestOptions } from '@prove-identity/prove-api/lib/sdks.js';
import { networkError, timeoutError, type RawResponse } from './errors.js';
import { HttpExchange } from './http-exchange.js';
import type { ProveLogger } from './logger.js';

export type ApiEndpoint = '/v3/unify' | '/v3/unify-status' | '/v3/unify-bind' | '/v3/device/revoke';
export type Endpoint = ApiEndpoint | '/token';

/** What our hooks need to know about the exchange running in this async context. */
interface Exchange {
  /** JSON to send instead of whatever the SDK serialised (undefined: leave the SDK's body). */
  body?: string;
  bearer?: string;
  /** Trace context headers (traceparent, tracestate) for this attempt, when tracing is on. */
  headers?: Record<string, string> | undefined;
  signal: AbortSignal;
  response?: RawResponse;
}

/**
 * How the fetcher finds the exchange a request belongs to: the SDK copies the headers of
 * `fetchOptions` onto the request it builds, and this one is taken off again before sending.
 */
const EXCHANGE_HEADER = 'x-unify-gateway-exchange';

const SDK_FUNCTIONS: Partial<Record<ApiEndpoint, typeof v3V3UnifyRequest | typeof v3V3UnifyStatusRequest | typeof v3V3UnifyBindRequest>> = {
  '/v3/unify': v3V3UnifyRequest,
  '/v3/unify-status': v3V3UnifyStatusRequest,
  '/v3/unify-bind': v3V3UnifyBindRequest,
};

/** Retries are ours alone (only unify-status is safe to repeat); the SDK must never add its own. */
const NO_SDK_RETRIES = { retries: { strategy: 'none' } } as const satisfies RequestOptions;

/**
 * Wraps each HTTP exchange with Prove (src/observability/prove-spans.ts makes it a CLIENT span):
 * `send` runs the exchange with the given extra headers (the trace context to propagate). Never
 * shown a body. Absent when tracing is off.
 */
export type ExchangeTracer = (
  exchange: { endpoint: Endpoint; attempt: number },
  send: (headers: Record<string, string> | undefined) => Promise<RawResponse>,
) => Promise<RawResponse>;

export interface TransportOptions {
  serverURL: string;
  logger?: ProveLogger | undefined;
  traceExchange?: ExchangeTracer | undefined;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Which try of a retried call this is (1 for the first, and for calls never retried). */
  attempt?: number | undefined;
  /** Where this exchange's lines go (the caller's request's log); the transport's logger otherwise. */
  log?: ProveLogger | undefined;
}

export class ProveTransport {
  readonly #core: ProveapiCore;
  readonly #wire = new HttpExchange();
  readonly #exchanges = new Map<string, Exchange>();
  #nextExchange = 0;
  readonly #logger: ProveLogger | undefined;
  readonly #trace: ExchangeTracer | undefined;
  readonly #serverURL: string;

  constructor({ serverURL, logger, traceExchange }: TransportOptions) {
    this.#logger = logger;
    this.#trace = traceExchange;
    this.#serverURL = serverURL.replace(/\/+$/, '');
    this.#core = new ProveapiCore({
      // Always explicit: without it the SDK silently talks to the US sandbox.
      serverURL,
      httpClient: new HTTPClient({ fetcher: (input) => this.#fetch(input) }),
      // No `security`: the SDK's client-credentials hook then stays out of the way and the
      // token is ours (single-flight, refresh after 401). See token.ts.
      retryConfig: { strategy: 'none' },
    });
  }

  /** POSTs `body` (already validated JSON) with `bearer`; resolves with whatever status came back. */
  async post(endpoint: ApiEndpoint, body: string, bearer: string, options: SendOptions): Promise<RawResponse> {
    const sdkFunction = SDK_FUNCTIONS[endpoint];
    // Endpoints newer than the SDK we can install (/v3/device/revoke came with 0.14) are sent as
    // the SDK would send them: our fetcher, a POST of JSON to the server's URL plus the path.
    const call = sdkFunction
      ? (fetchOptions: { signal: AbortSignal; headers: Record<string, string> }) =>
          sdkFunction(this.#core, undefined as never, { ...NO_SDK_RETRIES, fetchOptions })
      : async (fetchOptions: { signal: AbortSignal; headers: Record<string, string> }) => {
          try {
            await this.#fetch(new Request(`${this.#serverURL}${endpoint}`, { method: 'POST', headers: fetchOptions.headers }));
            return { ok: true as const };
          } catch (error) {
            return { ok: false as const, error };
          }
        };
    // The SDK gets no request object: the body it would build drops fields (defect 2), and it
    // never needs to hold a phone number. The fetcher sends our body instead.
    return this.#exchange(endpoint, { body, bearer }, options, call);
  }

  /** The OAuth client-credentials exchange, through the SDK's own token function and its form body. */
  async token(clientId: string, clientSecret: string, options: SendOptions): Promise<RawResponse> {
    return this.#exchange('/token', {}, options, (fetchOptions) =>
      v3V3TokenRequest(
        this.#core,
        { clientId, clientSecret, grantType: 'client_credentials' },
        { ...NO_SDK_RETRIES, fetchOptions },
      ),
    );
  }

  #exchange(
    endpoint: Endpoint,
    wanted: { body?: string; bearer?: string },
    options: SendOptions,
    call: (fetchOptions: { signal: AbortSignal; headers: Record<string, string> }) => Promise<{ ok: true } | { ok: false; error: unknown }>,
  ): Promise<RawResponse> {
    if (!this.#trace) return this.#exchangeOnce(endpoint, wanted, options, call);
    return this.#trace({ endpoint, attempt: options.attempt ?? 1 }, (headers) => this.#exchangeOnce(endpoint, { ...wanted, headers }, options, call));
  }

  async #exchangeOnce(
    endpoint: Endpoint,
    wanted: { body?: string; bearer?: string; headers?: Record<string, string> | undefined },
    { timeoutMs, signal, log = this.#logger }: SendOptions,
    call: (fetchOptions: { signal: AbortSignal; headers: Record<string, string> }) => Promise<{ ok: true } | { ok: false; error: unknown }>,
  ): Promise<RawResponse> {
    // The exchange's own timer, cleared when it ends: AbortSignal.timeout's would stay pending for
    // its whole length after every call, and fire then. Same reason as AbortSignal.timeout gives.
    const timer = new AbortController();
    const timeout = timer.signal;
    const clock = setTimeout(() => timer.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
    clock.unref();
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const id = String(this.#nextExchange++);
    const exchange: Exchange = { ...wanted, signal: combined };
    this.#exchanges.set(id, exchange);
    const started = performance.now();
    let result: { ok: true } | { ok: false; error: unknown };
    try {
      result = await call({ signal: combined, headers: { [EXCHANGE_HEADER]: id } });
    } finally {
      clearTimeout(clock);
      this.#exchanges.delete(id);
    }
    const ms = Math.round(performance.now() - started);

    if (exchange.response) {
      // Status and timing only: bodies may hold tokens, secrets or phone numbers.
      log?.debug({ endpoint, status: exchange.response.status, ms }, 'prove exchange');
      return exchange.response;
    }
    if (signal?.aborted) throw signal.reason;
    const cause = result.ok ? undefined : result.error;
    log?.debug({ endpoint, ms, outcome: timeout.aborted ? 'timeout' : 'network' }, 'prove exchange failed');
    if (timeout.aborted) throw timeoutError(endpoint, timeoutMs, cause);
    throw networkError(endpoint, cause);
  }

  /** The SDK's fetcher: the request it built, sent as ours; a failure reaches the SDK as a thrown error. */
  async #fetch(input: RequestInfo | URL): Promise<Response> {
    if (!(input instanceof Request)) throw new TypeError('the Prove SDK is expected to fetch a Request');
    const exchange = this.#exchanges.get(input.headers.get(EXCHANGE_HEADER) ?? '');
    if (!exchange) throw new Error('a Prove request outside any exchange');
    const headers: Record<string, string> = {};
    input.headers.forEach((value, name) => {
      if (name !== EXCHANGE_HEADER) headers[name] = value;
    });
    if (exchange.headers) Object.assign(headers, exchange.headers);
    if (exchange.bearer !== undefined) headers.authorization = `Bearer ${exchange.bearer}`;
    if (exchange.body !== undefined) headers['content-type'] = 'application/json';
    const body = exchange.body ?? (input.body ? await input.text() : null);
    if (body !== null) headers['content-length'] = String(Buffer.byteLength(body));
    exchange.response = await this.#wire.send(new URL(input.url), input.method, headers, body, exchange.signal);
    return new Response(null, { status: 204 });
  }
}
