/**
 * createProveClient: the ProveClient interface over the SDK transport. Validates requests with
 * our schemas, attaches the shared token (refreshing it once after a 401), classifies failures
 * into ProveError, parses 2xx bodies with our schemas, and retries only unify-status.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  createRedactor,
  errorFromStatus,
  invalidRequest,
  timeoutError,
  unreadableBody,
  type RawResponse,
  type Redactor,
} from './errors.js';
import type { ProveLogger } from './logger.js';
import { DEFAULT_RETRY, retryWithinDeadline, type RetryPolicy } from './retry.js';
import {
  DeviceRevokedSchema,
  DeviceRevokeRequestSchema,
  REQUEST_FIELDS,
  TokenResponseSchema,
  UnifyBindRequestSchema,
  UnifyOutcomeSchema,
  UnifyRequestSchema,
  UnifyStartedSchema,
  UnifyStatusRequestSchema,
} from './schemas.js';
import { TokenCache, type IssuedToken } from './token.js';
import { ProveTransport, type ApiEndpoint, type ExchangeTracer } from './transport.js';
import { ProveError, type CallOptions, type ProveClient } from './types.js';

/** Prove's "Identity Not Found", the documented 404 of /v3/device/revoke. */
const DEVICE_NOT_FOUND = 8011;

export interface ProveClientOptions {
  /** Prove's base URL; always explicit (see PROVE_SERVERS for the four hosts). */
  serverURL: string;
  clientId: string;
  clientSecret: string;
  /** Per HTTP attempt, token exchange included. Default 5000. */
  timeoutMs?: number;
  /** Total budget for one unifyStatus call, retries and backoff included. Default 10000. */
  statusDeadlineMs?: number;
  /** Backoff for unifyStatus retries. */
  retry?: Partial<RetryPolicy>;
  logger?: ProveLogger;
  /**
   * Called after each real OAuth token exchange (never for a cached token), with its duration and
   * outcome: 'ok' or the ProveError kind (metrics: src/observability/metrics.ts).
   */
  onTokenExchange?: (seconds: number, outcome: 'ok' | ProveError['kind'] | 'error') => void;
  /** Each HTTP exchange as a span, with the trace context propagated (src/observability/prove-spans.ts); absent when tracing is off. */
  traceExchange?: ExchangeTracer;
}

export function createProveClient(options: ProveClientOptions): ProveClient {
  const { clientId, clientSecret, logger } = options;
  if (!options.serverURL) throw new TypeError('createProveClient: serverURL is required');
  if (!clientId || !clientSecret) throw new TypeError('createProveClient: clientId and clientSecret are required');
  const timeoutMs = options.timeoutMs ?? 5_000;
  const statusDeadlineMs = options.statusDeadlineMs ?? 10_000;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };

  const transport = new ProveTransport({ serverURL: options.serverURL, logger, traceExchange: options.traceExchange });
  // Tokens we have held, so a message echoing one can be scrubbed. Bounded: one per refresh.
  const seenTokens = new Set<string>();
  const redact: Redactor = createRedactor(() => [clientSecret, ...seenTokens]);

  const exchange = async (): Promise<IssuedToken> => {
    const response = await transport.token(clientId, clientSecret, { timeoutMs });
    if (response.status < 200 || response.status >= 300) {
      const error = errorFromStatus('/token', response, [], redact);
      // The token endpoint refusing us (400 invalid_client, 401, 403) is a credentials problem.
      throw error.kind === 'invalid_request' ? asUnauthorized(error) : error;
    }
    const parsed = TokenResponseSchema.safeParse(parseJson(response.text));
    if (!parsed.success) throw unreadableBody('/token', response.status, parsed.error.issues[0]?.message ?? 'invalid');
    if (seenTokens.size > 16) seenTokens.clear();
    seenTokens.add(parsed.data.access_token);
    logger?.info({ expiresInSeconds: parsed.data.expires_in }, 'prove token obtained');
    return { accessToken: parsed.data.access_token, expiresInSeconds: parsed.data.expires_in };
  };
  const { onTokenExchange } = options;
  const tokens = new TokenCache(
    onTokenExchange
      ? async () => {
          const started = performance.now();
          try {
            const token = await exchange();
            onTokenExchange((performance.now() - started) / 1000, 'ok');
            return token;
          } catch (error) {
            onTokenExchange((performance.now() - started) / 1000, error instanceof ProveError ? error.kind : 'error');
            throw error;
          }
        }
      : exchange,
  );

  /**
   * The shared token, waited for no longer than this attempt may take: the shared fetch has its
   * own timeout, but a caller near its deadline must not wait that long.
   */
  async function tokenWithin(attemptMs: number, signal?: AbortSignal): Promise<string> {
    // Almost always cached: then there is no wait to bound, and no timer (a timeout signal's
    // timer stays pending for its whole length) for every call.
    const held = tokens.held();
    if (held !== undefined) return held;
    const limit = AbortSignal.timeout(attemptMs);
    try {
      return await tokens.get(signal ? AbortSignal.any([limit, signal]) : limit);
    } catch (err) {
      if (limit.aborted && !signal?.aborted && !(err instanceof ProveError)) throw timeoutError('/token', attemptMs, err);
      throw err;
    }
  }

  /**
   * One authorised exchange. A 401 means Prove refused the request without acting on it, so
   * even a unify may go once more with a fresh token; a second 401 is a configuration problem.
   */
  async function authorised(endpoint: ApiEndpoint, body: string, attemptMs: number, opts: CallOptions | undefined, attempt = 1): Promise<RawResponse> {
    const signal = opts?.signal;
    const log = opts?.log ?? logger;
    const send = { timeoutMs: attemptMs, signal, attempt, log };
    const token = await tokenWithin(attemptMs, signal);
    const first = await transport.post(endpoint, body, token, send);
    if (first.status !== 401) return first;

    log?.info({ endpoint }, 'prove refused the access token; refreshing it once');
    tokens.invalidate(token);
    const fresh = await tokenWithin(attemptMs, signal);
    const second = await transport.post(endpoint, body, fresh, send);
    if (second.status !== 401) return second;
    tokens.invalidate(fresh);
    throw new ProveError({
      kind: 'unauthorized',
      endpoint,
      status: 401,
      proveCode: errorFromStatus(endpoint, second, [], redact).proveCode,
      message: `Prove ${endpoint} refused a freshly issued access token (401)`,
    });
  }

  /** Validate, send, classify, parse: one complete call without retries. */
  async function call<Out>(
    endpoint: ApiEndpoint,
    requestSchema: z.ZodTypeAny,
    request: unknown,
    responseSchema: z.ZodType<Out, z.ZodTypeDef, unknown>,
    attemptMs: number,
    opts?: CallOptions,
    attempt?: number,
  ): Promise<Out> {
    const valid = requestSchema.safeParse(request);
    if (!valid.success) throw invalidRequest(endpoint, valid.error);
    const response = await authorised(endpoint, JSON.stringify(valid.data), attemptMs, opts, attempt);
    if (response.status < 200 || response.status >= 300) {
      throw errorFromStatus(endpoint, response, REQUEST_FIELDS[endpoint], redact);
    }
    const parsed = responseSchema.safeParse(parseJson(response.text));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw unreadableBody(endpoint, response.status, issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid');
    }
    return parsed.data;
  }

  return {
    // Never retried: a second unify sends another SMS and opens another flow. Prove requires a
    // clientRequestId (a GUID, no PII): one is made when the caller has none.
    unify: (request, opts?: CallOptions) =>
      call('/v3/unify', UnifyRequestSchema, { ...request, clientRequestId: request.clientRequestId ?? randomUUID() }, UnifyStartedSchema, timeoutMs, opts),

    // Never retried: binding is a state change on Prove's side.
    unifyBind: (request, opts?: CallOptions) =>
      call('/v3/unify-bind', UnifyBindRequestSchema, request, UnifyOutcomeSchema, timeoutMs, opts),

    // Reading an outcome is safe to repeat, so transient failures are retried within the deadline.
    unifyStatus: (request, opts?: CallOptions) =>
      retryWithinDeadline(
        (remainingMs, attempt) =>
          call(
            '/v3/unify-status',
            UnifyStatusRequestSchema,
            request,
            UnifyOutcomeSchema,
            Math.min(timeoutMs, remainingMs),
            opts,
            attempt,
          ),
        {
          policy,
          deadlineMs: statusDeadlineMs,
          signal: opts?.signal,
          onRetry: (err, attempt, delayMs) =>
            (opts?.log ?? logger)?.warn({ endpoint: err.endpoint, kind: err.kind, status: err.status, attempt, delayMs }, 'retrying prove call'),
        },
      ),

    // Never retried by us: the caller may repeat it (revoking twice is harmless). A device Prove
    // does not know is its 404 8011 ("Identity Not Found"): nothing was revoked.
    revokeDevice: async (request, opts?: CallOptions) => {
      try {
        return await call('/v3/device/revoke', DeviceRevokeRequestSchema, request, DeviceRevokedSchema, timeoutMs, opts);
      } catch (error) {
        if (error instanceof ProveError && error.status === 404 && error.proveCode === DEVICE_NOT_FOUND) return { success: false };
        throw error;
      }
    },

    async checkCredentials(opts?: CallOptions) {
      await tokens.get(opts?.signal);
    },
  };
}

function asUnauthorized(error: ProveError): ProveError {
  return new ProveError({
    kind: 'unauthorized',
    endpoint: error.endpoint,
    status: error.status,
    proveCode: error.proveCode,
    message: error.message.replace('refused the request', 'refused our client credentials'),
  });
}

/** undefined for a body that is not JSON, which the schema then reports as unreadable. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
