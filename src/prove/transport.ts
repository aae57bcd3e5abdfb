/**
 * The SDK as a transport: server selection, the token exchange and HTTP go through
 * @prove-identity/prove-api; the bodies do not. Our `beforeRequest` hook puts our own JSON and
 * bearer on the wire, our `response` hook keeps the raw status and body of the call in flight,
 * and the SDK's parse result is ignored (it rejects every 200 in 0.9.6).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ProveapiCore } from '@prove-identity/prove-api/core.js';
import { v3V3TokenRequest } from '@prove-identity/prove-api/funcs/v3V3TokenRequest.js';
import { v3V3UnifyBindRequest } from '@prove-identity/prove-api/funcs/v3V3UnifyBindRequest.js';
import { v3V3UnifyRequest } from '@prove-identity/prove-api/funcs/v3V3UnifyRequest.js';
import { v3V3UnifyStatusRequest } from '@prove-identity/prove-api/funcs/v3V3UnifyStatusRequest.js';
import { HTTPClient } from '@prove-identity/prove-api/lib/http.js';
import type { RequestOptions } from '@prove-identity/prove-api/lib/sdks.js';
import { networkError, timeoutError, type RawResponse } from './errors.js';
import type { ProveLogger } from './logger.js';

export type ApiEndpoint = '/v3/unify' | '/v3/unify-status' | '/v3/unify-bind';
export type Endpoint = ApiEndpoint | '/token';

/** What our hooks need to know about the exchange running in this async context. */
interface Exchange {
  /** JSON to send instead of whatever the SDK serialised (undefined: leave the SDK's body). */
  body?: string;
  bearer?: string;
  response?: RawResponse;
}

const SDK_FUNCTIONS = {
  '/v3/unify': v3V3UnifyRequest,
  '/v3/unify-status': v3V3UnifyStatusRequest,
  '/v3/unify-bind': v3V3UnifyBindRequest,
} as const;

/** Retries are ours alone (only unify-status is safe to repeat); the SDK must never add its own. */
const NO_SDK_RETRIES = { retries: { strategy: 'none' } } as const satisfies RequestOptions;

export interface TransportOptions {
  serverURL: string;
  logger?: ProveLogger | undefined;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export class ProveTransport {
  readonly #core: ProveapiCore;
  readonly #exchanges = new AsyncLocalStorage<Exchange>();
  readonly #logger: ProveLogger | undefined;

  constructor({ serverURL, logger }: TransportOptions) {
    this.#logger = logger;
    const http = new HTTPClient();
    http.addHook('beforeRequest', (req) => this.#rewrite(req));
    http.addHook('response', (res) => this.#capture(res));
    this.#core = new ProveapiCore({
      // Always explicit: without it the SDK silently talks to the US sandbox.
      serverURL,
      httpClient: http,
      // No `security`: the SDK's client-credentials hook then stays out of the way and the
      // token is ours (single-flight, refresh after 401). See token.ts.
      retryConfig: { strategy: 'none' },
    });
  }

  /** POSTs `body` (already validated JSON) with `bearer`; resolves with whatever status came back. */
  async post(endpoint: ApiEndpoint, body: string, bearer: string, options: SendOptions): Promise<RawResponse> {
    const sdkFunction = SDK_FUNCTIONS[endpoint];
    // The SDK gets no request object: the body it would build drops fields (defect 2), and it
    // never needs to hold a phone number. Our hook supplies the body instead.
    return this.#exchange(endpoint, { body, bearer }, options, (fetchOptions) =>
      sdkFunction(this.#core, undefined, { ...NO_SDK_RETRIES, fetchOptions }),
    );
  }

  /** The OAuth client-credentials exchange, through the SDK's own token function. */
  async token(clientId: string, clientSecret: string, options: SendOptions): Promise<RawResponse> {
    return this.#exchange('/token', {}, options, (fetchOptions) =>
      v3V3TokenRequest(
        this.#core,
        { clientId, clientSecret, grantType: 'client_credentials' },
        { ...NO_SDK_RETRIES, fetchOptions },
      ),
    );
  }

  async #exchange(
    endpoint: Endpoint,
    exchange: Exchange,
    { timeoutMs, signal }: SendOptions,
    call: (fetchOptions: { signal: AbortSignal }) => Promise<{ ok: true } | { ok: false; error: unknown }>,
  ): Promise<RawResponse> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const started = performance.now();
    const result = await this.#exchanges.run(exchange, () => call({ signal: combined }));
    const ms = Math.round(performance.now() - started);

    if (exchange.response) {
      // Status and timing only: bodies may hold tokens, secrets or phone numbers.
      this.#logger?.debug({ endpoint, status: exchange.response.status, ms }, 'prove exchange');
      return exchange.response;
    }
    if (signal?.aborted) throw signal.reason;
    const cause = result.ok ? undefined : result.error;
    this.#logger?.debug({ endpoint, ms, outcome: timeout.aborted ? 'timeout' : 'network' }, 'prove exchange failed');
    if (timeout.aborted) throw timeoutError(endpoint, timeoutMs, cause);
    throw networkError(endpoint, cause);
  }

  #rewrite(req: Request): Request {
    const exchange = this.#exchanges.getStore();
    if (!exchange || (exchange.body === undefined && exchange.bearer === undefined)) return req;
    const headers = new Headers(req.headers);
    if (exchange.bearer !== undefined) headers.set('authorization', `Bearer ${exchange.bearer}`);
    if (exchange.body !== undefined) headers.set('content-type', 'application/json');
    return new Request(req.url, {
      method: req.method,
      headers,
      body: exchange.body ?? null,
      signal: req.signal,
    });
  }

  async #capture(res: Response): Promise<void> {
    const exchange = this.#exchanges.getStore();
    if (!exchange) return;
    // Read a copy before the SDK consumes the original. If the body never completes (dropped
    // connection, timeout), this throws, the SDK reports a transport error and nothing is captured.
    const text = await res.clone().text();
    exchange.response = { status: res.status, retryAfter: res.headers.get('retry-after'), text };
  }
}
