import { PROVE_REGION_VARIABLES, readProveRegions, type ProveRegions } from './prove/region-config.js';
import { LOG_FORMATS, type LogFormat } from './logger.js';
import { readTracingConfig, type TracingConfig } from './observability/tracing-config.js';
import { WEBHOOK_VARIABLES, readWebhookConfig, type WebhookConfig } from './webhooks/config.js';
import type { LiveLimitsConfig } from './security/live-limits.js';
import { compileProxyTrust, type ProxyTrust } from './security/address.js';
import { TRUSTED_DOCUMENTS_VARIABLES, readTrustedDocumentsConfig } from './graphql/trusted-documents-config.js';
import type { TrustedDocumentsOptions } from './graphql/trusted-documents-plugin.js';
import { ConfigError, list, parseDuration, parseLimit, type Limit } from './config-values.js';

export { ConfigError, parseDuration, parseLimit, type Limit };

/**
 * Environment -> typed Config. Every variable is checked up front so a bad deployment fails at
 * start with one line per problem, instead of at the first request that touches it.
 */

export type ProveTarget =
  /** In-process emulator mounted on the gateway's own port. */
  | { mode: 'emulator'; clientId: string; clientSecret: string }
  | { mode: 'remote'; serverURL: string; clientId: string; clientSecret: string; sandbox: boolean };

export interface Config {
  port: number;
  host: string;
  production: boolean;
  /** The default region's Prove (what a single-region deployment configures). */
  prove: ProveTarget;
  /** Every region this gateway serves: PROVE_US_*, PROVE_EU_*, PROVE_DEFAULT_REGION (src/prove/region-config.ts). */
  proveRegions: ProveRegions;
  redisUrl: string | undefined;
  /** REDIS_CLUSTER=on: REDIS_URL names seed nodes of a Redis Cluster (or Valkey cluster), comma-separated. */
  redisCluster: boolean;
  apiKeys: string[];
  /** Public starts to one number from one client address (START_LIMIT_PER_NUMBER). */
  startLimitPerNumber: Limit;
  /** Public starts to one number from all addresses together (START_LIMIT_PER_NUMBER_ALL). */
  startLimitPerNumberAll: Limit;
  /** Trusted starts to one number, per API key (START_LIMIT_PER_NUMBER_TRUSTED). */
  startLimitPerNumberTrusted: Limit;
  startLimitPerAddress: Limit;
  proveRateLimit: number;
  /** ISO 3166 alpha-2 codes; empty means every country. */
  allowedCountries: string[];
  corsOrigins: string[];
  /** Origins an Instant Link's finalTargetUrl may lead to; empty allows any. */
  finalTargetOrigins: string[];
  /** How long a flow lives after Prove created it. */
  flowTtlMs: number;
  logLevel: string;
  /** OpenTelemetry tracing from the standard OTEL_* variables; undefined when off (no endpoint, or disabled). */
  tracing: TracingConfig | undefined;
  /** LOG_FORMAT: json or pretty; unset lets the logger choose (pretty in development on a terminal). */
  logFormat: LogFormat | undefined;
  /** Our own proxies (TRUSTED_PROXIES) and the header they write (TRUST_PROXY_HEADER); none: the socket address is the client. */
  proxyTrust: ProxyTrust;
  /** Serve the status page at / (STATUS_PAGE=on|off; on by default outside production). */
  statusPage: boolean;
  /** SIGTERM/SIGINT: how long requests in flight may take to finish before they are cut (SHUTDOWN_TIMEOUT). */
  shutdownTimeoutMs: number;
  /** How long one call to Prove may take before it counts as timed out (PROVE_TIMEOUT). */
  proveTimeoutMs: number;
  /** Signed webhooks to the operator's backend (WEBHOOK_*); undefined when off. */
  webhooks: WebhookConfig | undefined;
  /** The HTTP server's timeouts (HTTP_KEEP_ALIVE_TIMEOUT, HTTP_HEADERS_TIMEOUT, HTTP_REQUEST_TIMEOUT). */
  http: HttpTimeouts;
  /** Connections and subscriptions a client, and the process, may hold open (LIMIT_*). */
  liveLimits: LiveLimitsConfig;
  /** The trusted documents manifests (TRUSTED_DOCUMENTS) and whether only they may run (TRUSTED_DOCUMENTS_ONLY). */
  trustedDocuments: TrustedDocumentsOptions;
}

export interface HttpTimeouts {
  /** An idle keep-alive connection is closed after this; above a load balancer's idle timeout (60 s on most). */
  keepAliveTimeoutMs: number;
  /** A request's headers must have arrived within this (slowloris). */
  headersTimeoutMs: number;
  /** A request, body included, must have arrived within this; responses (SSE streams) are not bounded by it. */
  requestTimeoutMs: number;
}

const KNOWN = new Set([
  'PORT', 'HOST', 'NODE_ENV', 'PROVE_ENV', 'PROVE_BASE_URL', 'PROVE_CLIENT_ID', 'PROVE_CLIENT_SECRET',
  'REDIS_URL', 'REDIS_CLUSTER', 'GATEWAY_API_KEYS', 'START_LIMIT_PER_NUMBER', 'START_LIMIT_PER_NUMBER_ALL', 'START_LIMIT_PER_NUMBER_TRUSTED', 'START_LIMIT_PER_ADDRESS',
  'PROVE_RATE_LIMIT', 'ALLOWED_COUNTRIES', 'CORS_ORIGINS', 'FLOW_TTL', 'LOG_LEVEL', 'LOG_FORMAT', 'TRUST_PROXY_HOPS', 'TRUSTED_PROXIES', 'TRUST_PROXY_HEADER',
  'STATUS_PAGE', 'FINAL_TARGET_ORIGINS', 'SHUTDOWN_TIMEOUT', 'PROVE_TIMEOUT', ...WEBHOOK_VARIABLES,
  ...PROVE_REGION_VARIABLES,
  'HTTP_KEEP_ALIVE_TIMEOUT', 'HTTP_HEADERS_TIMEOUT', 'HTTP_REQUEST_TIMEOUT',
  'LIMIT_SUBSCRIPTIONS_PER_SOCKET', 'LIMIT_SUBSCRIPTIONS_PER_ADDRESS', 'LIMIT_SUBSCRIPTIONS_TOTAL',
  'LIMIT_CONNECTIONS_PER_ADDRESS', 'LIMIT_CONNECTIONS_TOTAL', ...TRUSTED_DOCUMENTS_VARIABLES,
]);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const bad = (name: string, why: string) => problems.push(`${name}: ${why}`);
  for (const name of unknownVariables(env)) bad(name, 'is not a setting this gateway knows (a typo?)');

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      bad(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };
  const limit = (name: string, fallback: Limit): Limit => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const parsed = parseLimit(raw);
    if (!parsed) bad(name, `must be count/window such as 3/10m or 20/1m, got "${raw}"`);
    return parsed ?? fallback;
  };

  const nodeEnv = env.NODE_ENV ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    bad('NODE_ENV', `must be development, production or test, got "${nodeEnv}"`);
  }
  const production = nodeEnv === 'production';

  // Prove: regions, hosts and credentials (src/prove/region-config.ts).
  const proveRegions = readProveRegions(env, production, bad);
  const defaultTarget = proveRegions.targets[proveRegions.defaultRegion];
  const prove: ProveTarget =
    proveRegions.mode === 'remote' && defaultTarget
      ? { mode: 'remote', ...defaultTarget, sandbox: proveRegions.sandbox }
      : { mode: 'emulator', clientId: 'emulator-client', clientSecret: 'emulator-secret' };

  const redisCluster = env.REDIS_CLUSTER || 'off';
  if (redisCluster !== 'on' && redisCluster !== 'off') bad('REDIS_CLUSTER', `must be on or off, got "${redisCluster}"`);
  if (redisCluster === 'on' && !env.REDIS_URL) bad('REDIS_CLUSTER', 'needs REDIS_URL naming at least one node of the cluster');
  const redisUrls = list(env.REDIS_URL);
  if (redisUrls.some((url) => !/^rediss?:\/\//.test(url))) bad('REDIS_URL', 'must start with redis:// or rediss://');
  else if (redisUrls.length > 1 && redisCluster !== 'on') bad('REDIS_URL', 'names one Redis (several seed nodes only with REDIS_CLUSTER=on)');

  const apiKeys = list(env.GATEWAY_API_KEYS);
  for (const key of apiKeys) {
    if (key.length < 16) {
      bad('GATEWAY_API_KEYS', 'every key must be at least 16 characters');
      break;
    }
  }

  const allowedCountries = list(env.ALLOWED_COUNTRIES).map((c) => c.toUpperCase());
  for (const code of allowedCountries) {
    if (!/^[A-Z]{2}$/.test(code)) bad('ALLOWED_COUNTRIES', `"${code}" is not an ISO 3166 two-letter country code`);
  }

  const corsOrigins = list(env.CORS_ORIGINS);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) bad('CORS_ORIGINS', `"${origin}" must be an origin like https://app.example.com`);
  }

  // Compared with URL.origin, so written the way URL writes it (lower-case host, no default port).
  const finalTargetOrigins = list(env.FINAL_TARGET_ORIGINS).map((origin) => {
    const parsed = /^https?:\/\/[^/]+$/.test(origin) && URL.canParse(origin) ? new URL(origin).origin : undefined;
    if (!parsed) bad('FINAL_TARGET_ORIGINS', `"${origin}" must be an origin like https://app.example.com`);
    return parsed ?? origin;
  });

  let flowTtlMs = 15 * 60_000;
  if (env.FLOW_TTL) {
    const parsed = parseDuration(env.FLOW_TTL);
    // Prove's correlation id lives 15 minutes: a flow cannot outlive it.
    if (!parsed || parsed > flowTtlMs) bad('FLOW_TTL', `must be a duration of at most 15m, such as 15m or 900s, got "${env.FLOW_TTL}"`);
    else flowTtlMs = parsed;
  }

  const logLevel = env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    bad('LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }

  const logFormat = env.LOG_FORMAT || undefined;
  if (logFormat !== undefined && !(LOG_FORMATS as readonly string[]).includes(logFormat)) {
    bad('LOG_FORMAT', `must be json or pretty, got "${logFormat}"`);
  }

  let shutdownTimeoutMs = 25_000;
  if (env.SHUTDOWN_TIMEOUT) {
    const parsed = parseDuration(env.SHUTDOWN_TIMEOUT);
    if (parsed === undefined || parsed > 10 * 60_000) bad('SHUTDOWN_TIMEOUT', `must be a duration up to 10m such as 25s or 5000ms, got "${env.SHUTDOWN_TIMEOUT}"`);
    else shutdownTimeoutMs = parsed;
  }

  const duration = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const parsed = parseDuration(raw);
    if (parsed === undefined || parsed < min || parsed > max) {
      bad(name, `must be a duration from ${min} ms to ${max / 1000} s such as 65s or 500ms, got "${raw}"`);
      return fallback;
    }
    return parsed;
  };
  const http: HttpTimeouts = {
    keepAliveTimeoutMs: duration('HTTP_KEEP_ALIVE_TIMEOUT', 65_000, 1_000, 3_600_000),
    headersTimeoutMs: duration('HTTP_HEADERS_TIMEOUT', 10_000, 100, 600_000),
    requestTimeoutMs: duration('HTTP_REQUEST_TIMEOUT', 30_000, 100, 3_600_000),
  };
  // node:http refuses a headers timeout longer than the request timeout it is part of.
  if (http.headersTimeoutMs > http.requestTimeoutMs) bad('HTTP_HEADERS_TIMEOUT', `must not be longer than HTTP_REQUEST_TIMEOUT (${http.requestTimeoutMs} ms)`);
  const proveTimeoutMs = duration('PROVE_TIMEOUT', 5_000, 100, 60_000);

  // A hop count trusts X-Forwarded-For from whoever connects, so without a proxy a client forges
  // its address; trust is now given to named proxies only.
  if (env.TRUST_PROXY_HOPS) {
    bad('TRUST_PROXY_HOPS', 'was replaced by TRUSTED_PROXIES: list the addresses or CIDR ranges of your own proxies (e.g. 10.0.0.0/8), see the README');
  }
  const proxyTrust: ProxyTrust = { proxies: list(env.TRUSTED_PROXIES), header: 'x-forwarded-for' };
  const proxyHeader = env.TRUST_PROXY_HEADER || 'x-forwarded-for';
  if (proxyHeader !== 'x-forwarded-for' && proxyHeader !== 'forwarded') bad('TRUST_PROXY_HEADER', `must be x-forwarded-for or forwarded, got "${proxyHeader}"`);
  else proxyTrust.header = proxyHeader;
  try {
    compileProxyTrust(proxyTrust);
  } catch (error) {
    bad('TRUSTED_PROXIES', `${(error as Error).message}: give addresses, CIDR ranges, or loopback, linklocal, uniquelocal`);
  }

  const statusPage = env.STATUS_PAGE || (production ? 'off' : 'on');
  if (statusPage !== 'on' && statusPage !== 'off') bad('STATUS_PAGE', `must be on or off, got "${statusPage}"`);

  const config: Config = {
    port: int('PORT', 4000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    production,
    prove,
    proveRegions,
    redisUrl: env.REDIS_URL || undefined,
    redisCluster: redisCluster === 'on',
    apiKeys,
    startLimitPerNumber: limit('START_LIMIT_PER_NUMBER', { count: 3, windowMs: 10 * 60_000 }),
    startLimitPerNumberAll: limit('START_LIMIT_PER_NUMBER_ALL', { count: 10, windowMs: 60 * 60_000 }),
    startLimitPerNumberTrusted: limit('START_LIMIT_PER_NUMBER_TRUSTED', { count: 10, windowMs: 10 * 60_000 }),
    startLimitPerAddress: limit('START_LIMIT_PER_ADDRESS', { count: 20, windowMs: 60_000 }),
    proveRateLimit: int('PROVE_RATE_LIMIT', 25, 1, 10_000),
    allowedCountries,
    corsOrigins,
    finalTargetOrigins,
    flowTtlMs,
    logLevel,
    logFormat: logFormat as LogFormat | undefined,
    tracing: readTracingConfig(env, bad),
    proxyTrust,
    statusPage: statusPage === 'on',
    shutdownTimeoutMs,
    proveTimeoutMs,
    webhooks: readWebhookConfig(env, { production, parseDuration, bad }),
    trustedDocuments: readTrustedDocumentsConfig(env, bad),
    http,
    liveLimits: {
      subscriptionsPerSocket: int('LIMIT_SUBSCRIPTIONS_PER_SOCKET', 200, 1, 1_000_000),
      subscriptionsPerAddress: int('LIMIT_SUBSCRIPTIONS_PER_ADDRESS', 1_000, 1, 1_000_000),
      subscriptionsTotal: int('LIMIT_SUBSCRIPTIONS_TOTAL', 20_000, 1, 1_000_000),
      connectionsPerAddress: int('LIMIT_CONNECTIONS_PER_ADDRESS', 1_000, 1, 1_000_000),
      connectionsTotal: int('LIMIT_CONNECTIONS_TOTAL', 20_000, 1, 1_000_000),
    },
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Variables that look like ours but are not: a typo such as PROVE_CLIENTID would otherwise go unnoticed. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  // Prefixes no other software on a gateway host is likely to use (REDIS_ and LOG_ are left out).
  const prefixes = ['PROVE_', 'GATEWAY_', 'START_LIMIT_', 'CORS_', 'FINAL_TARGET_', 'TRUST_PROXY', 'SHUTDOWN_', 'FLOW_', 'ALLOWED_COUNTR', 'STATUS_PAGE', 'WEBHOOK_',
    // Not HTTP_ alone: HTTP_PROXY and friends belong to other software.
    'HTTP_KEEP', 'HTTP_HEADER', 'HTTP_REQUEST', 'LIMIT_', 'TRUSTED_DOC'];
  return Object.keys(env).filter((k) => prefixes.some((p) => k.startsWith(p)) && !KNOWN.has(k));
}
